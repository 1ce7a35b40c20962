"""Does the activation explorer plot f and f', and measure the gradient that survives n layers?"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from chainrule.activations import activation
from chainrule.widgets import ActivationExplorer
from chainrule.widgets.activation_explorer import CHOICES, surviving_gradient

from ._png import changed

AUTOGRAD_F = {
    "sigmoid": lambda h: 1 / (1 + anp.exp(-h)),
    "tanh": anp.tanh,
    "relu": lambda h: anp.maximum(h, 0.0),
    "softplus": lambda h: anp.logaddexp(0.0, h),
}


@pytest.mark.parametrize("name", list(AUTOGRAD_F))
def test_surviving_gradient_matches_autograd_on_the_same_stack(name):
    layers, width, n = 5, 16, 32
    ratios = surviving_gradient(name, layers, width=width, n=n, seed=3)
    # rebuild the same random stack and differentiate sum(G * a_L) with respect to each h_l
    rng = np.random.default_rng(3)
    scale = np.sqrt((1.0 if name in ("sigmoid", "tanh") else 2.0) / width)
    a0 = rng.standard_normal((n, width))
    Ws = [scale * rng.standard_normal((width, width)) for _ in range(layers)]
    G = rng.standard_normal((n, width))
    f = AUTOGRAD_F[name]

    def top_from(k, h):  # the output's projection on G, as a function of h_k
        a = f(h)
        for W in Ws[k + 1 :]:
            a = f(anp.dot(a, W))
        return anp.sum(G * a)

    hs, a = [], a0
    for W in Ws:
        hs.append(a @ W)
        a = f(hs[-1])
    sizes = np.array(
        [np.abs(grad(lambda h, k=k: top_from(k, h))(hs[k])).mean() for k in range(layers)]
    )
    np.testing.assert_allclose(ratios, sizes / sizes[-1], rtol=1e-10)


def test_sigmoid_gradients_vanish_and_relu_gradients_do_not():
    sig, relu = surviving_gradient("sigmoid", 15), surviving_gradient("relu", 15)
    assert sig[-1] == relu[-1] == 1.0
    assert sig[0] < 0.25**14  # below what sigmoid' alone allows: the weights shrink it too
    assert 0.1 < relu[0] < 10
    assert (np.diff(np.log(sig)) > 0).all()  # smaller at every layer further down


def test_opens_on_sigmoid_and_draws_f_and_its_derivative():
    app = ActivationExplorer()
    left, right = app.figure.axes[:2]
    act = activation("sigmoid")
    f_line, df_line = _curves(left)
    z = f_line.get_xdata()
    np.testing.assert_allclose(f_line.get_ydata(), act.f(z))
    np.testing.assert_allclose(df_line.get_ydata(), act.df(z))
    measured, bound = right.lines[:2]
    np.testing.assert_allclose(measured.get_ydata(), app.ratios)
    np.testing.assert_allclose(bound.get_ydata(), 0.25 ** np.arange(9, -1, -1.0), rtol=1e-6)
    assert "max |f'| = 0.25" in app.status.value and "10 layers" in app.status.value


@pytest.mark.parametrize("name", CHOICES)
def test_every_choice_redraws_with_its_own_curves(name):
    app = ActivationExplorer()
    before = app.image.value
    app.choice.value = name
    f_line, _ = _curves(app.figure.axes[0])
    np.testing.assert_allclose(f_line.get_ydata(), activation(name).f(f_line.get_xdata()))
    assert app.figure.axes[0].get_title() == name
    np.testing.assert_allclose(app.ratios, surviving_gradient(name, 10))
    if name != "sigmoid":
        assert changed(before, app.image.value) > 0.005


def test_the_layers_slider_sets_the_depth():
    app = ActivationExplorer("tanh", layers=3)
    assert len(app.ratios) == 3
    app.layers.value = 25
    assert len(app.ratios) == 25 and len(app.figure.axes[1].lines[0].get_xdata()) == 25
    assert "25 layers" in app.status.value
    # ReLU's max |f'| is 1: no bound curve is drawn
    app.choice.value = "relu"
    dashed = [ln for ln in app.figure.axes[1].lines if ln.get_linestyle() == "--"]
    assert not any(ln.get_visible() for ln in dashed)
    assert [t.get_text() for t in app.figure.axes[1].get_legend().get_texts()] == [
        "measured (random net)"
    ]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="activation must be one of .* got 'swish'"):
        ActivationExplorer("swish")
    for bad in (0, -3, 31, 2.5, "4"):
        with pytest.raises(
            ValueError, match=f"layers must be a whole number from 1 to 30, got {bad!r}"
        ):
            ActivationExplorer(layers=bad)


def test_one_layer_reads_right():
    app = ActivationExplorer("relu", layers=1)
    assert app.figure.axes[1].get_title() == "gradient through 1 relu layer"
    assert "nothing below it" in app.status.value


def _curves(ax):
    """The f and f' lines of plot_activation's panel."""
    by_label = {ln.get_label().split(" ")[0]: ln for ln in ax.lines}
    return by_label["f(z)"], by_label["f'(z)"]
