"""Do chainrule.layers and the two-layer net give NumPy's answers on every device?

Each case runs forward and backward on NumPy and on a device: the simulated device
(``chainrule.simdevice``, always, CuPy's rules on the CPU, so results must match bit for bit and
stay on the device) and the GPU through CuPy (when one is present; otherwise skipped with
``gpu_available()``'s reason; float tolerance, since cuBLAS sums in another order).
"""

import numpy as np
import pytest

from chainrule import TwoLayerNet, data, layers, simdevice
from chainrule.backend import get_array_module, gpu_available, to_device, to_numpy


def _device(name):
    if name == "gpu":
        status = gpu_available()
        if not status:
            pytest.skip(f"no GPU: {status.reason}")
        import cupy

        return cupy
    return simdevice


DEVICES = ["sim", "gpu"]
rng = np.random.default_rng(0)
X, W, B = rng.standard_normal((6, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)
DOUT = rng.standard_normal((6, 4))
LABELS = np.array([0, 3, 1, 2, 3, 0])
Q = rng.standard_normal(4)


def _layer_cases():
    """name -> function of (arrays...) returning every output of forward and backward."""

    def affine(x, w, b, dout):
        out, cache = layers.affine_forward(x, w, b)
        return (out, *layers.affine_backward(dout, cache))

    def elementwise(forward, backward):
        def run(x, dout):
            out, cache = forward(x)
            return out, backward(dout, cache)

        return run

    def matmul(w, x, dq):
        q, cache = layers.matmul_forward(w, x)
        return (q, *layers.matmul_backward(dq, cache))

    def l2_squared(q):
        f, cache = layers.l2_squared_forward(q)
        return f, layers.l2_squared_backward(1.0, cache)

    return {
        "affine": (affine, (X, W, B, DOUT)),
        "relu": (elementwise(layers.relu_forward, layers.relu_backward), (DOUT, DOUT)),
        "sigmoid": (elementwise(layers.sigmoid_forward, layers.sigmoid_backward), (DOUT, DOUT)),
        "tanh": (elementwise(layers.tanh_forward, layers.tanh_backward), (DOUT, DOUT)),
        "matmul": (matmul, (W.T, X[0], W.T @ X[0])),
        "l2_squared": (l2_squared, (Q,)),
        "softmax_loss": (layers.softmax_loss, (DOUT, LABELS)),
        "svm_loss": (layers.svm_loss, (DOUT, LABELS)),
        "squared_error_loss": (layers.squared_error_loss, (DOUT, DOUT[::-1].copy())),
        "l2_regularization": (lambda w: layers.l2_regularization(w, 0.3), (W,)),
    }


CASES = _layer_cases()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layer", list(CASES))
def test_every_layer_matches_numpy_on_the_device(layer, device):
    xp = _device(device)
    fn, args = CASES[layer]
    want = fn(*args)
    got = fn(*(xp.asarray(a) for a in args))
    assert len(got) == len(want)
    for g, v in zip(got, want):
        if isinstance(v, np.ndarray):
            assert get_array_module(g) is xp, f"{layer}: an output came back on {type(g)}"
            if device == "sim":
                np.testing.assert_array_equal(to_numpy(g), v)
            else:
                np.testing.assert_allclose(to_numpy(g), v, rtol=1e-10, atol=1e-12)
        elif isinstance(v, np.generic):  # a reduction: a 0-d array on a device, as in CuPy
            assert float(to_numpy(g)) == pytest.approx(float(v), rel=1e-12)
        else:  # losses are Python floats on every device
            assert isinstance(g, float), f"{layer}: loss is {type(g).__name__}, not float"
            assert g == pytest.approx(v, rel=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_the_two_layer_net_trains_the_same_on_the_device(device):
    xp = _device(device)
    Xs, ys = data.spirals(n=90, seed=1)
    host = TwoLayerNet(2, 32, 3, reg=1e-3, seed=2)
    dev = TwoLayerNet(2, 32, 3, reg=1e-3, seed=2, xp=xp)
    Xd, yd = to_device((Xs, ys), device)
    for _ in range(20):
        lh, ld = host.step(Xs, ys, 0.5), dev.step(Xd, yd, 0.5)
        assert ld == pytest.approx(lh, rel=1e-9)
    for name, p in host.params.items():
        assert get_array_module(dev.params[name]) is xp
        np.testing.assert_allclose(to_numpy(dev.params[name]), p, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(to_numpy(dev.predict(Xd)), host.predict(Xs))
