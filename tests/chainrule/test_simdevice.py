"""Does the simulated device keep results on the device and refuse what CuPy refuses?"""

import numpy as np
import pytest

from chainrule import simdevice
from chainrule.backend import get_array_module, to_numpy

x_host = np.arange(6.0).reshape(2, 3)


@pytest.fixture
def x():
    return simdevice.asarray(x_host)


def test_device_code_gives_numpys_numbers_and_stays_on_the_device(x):
    xp = get_array_module(x)
    assert xp is simdevice
    results = {
        "exp": (xp.exp(x), np.exp(x_host)),
        "matmul": (x @ x.T, x_host @ x_host.T),
        "sum": (x.sum(axis=0), x_host.sum(axis=0)),
        "max keepdims": (x.max(axis=1, keepdims=True), x_host.max(axis=1, keepdims=True)),
        "where": (xp.where(x > 2, x, 0.0), np.where(x_host > 2, x_host, 0.0)),
        "zeros_like": (xp.zeros_like(x), np.zeros_like(x_host)),
        "arange": (xp.arange(3), np.arange(3)),
        "index": (x[xp.arange(2), xp.asarray([2, 0])], x_host[[0, 1], [2, 0]]),
        "scalar ops": (2.0 * x - 1, 2.0 * x_host - 1),
        "random": (
            xp.random.default_rng(0).standard_normal(3),
            np.random.default_rng(0).standard_normal(3),
        ),
    }
    for name, (got, want) in results.items():
        assert isinstance(got, simdevice.DeviceArray), f"{name}: left the device"
        np.testing.assert_array_equal(got.get(), want, err_msg=name)
    total = x.sum()
    assert isinstance(total, simdevice.DeviceArray) and total.ndim == 0  # as CuPy's reductions
    assert float(total) == 15.0 and int(x[1, 2]) == 5


def test_in_place_updates_and_assignment_stay_on_the_device(x):
    y = x.copy()
    y -= 0.5 * x
    y[0, 0] = 7.0
    y[1] += x[0]
    want = x_host - 0.5 * x_host
    want[0, 0] = 7.0
    want[1] += x_host[0]
    np.testing.assert_array_equal(to_numpy(y), want)


@pytest.mark.parametrize(
    "leak, says",
    [
        (lambda x: np.asarray(x), "Implicit conversion to a NumPy array is not allowed"),
        (lambda x: np.exp(x), "np.exp was called on a device array"),
        (lambda x: np.zeros_like(x), "np.zeros_like was called on a device array"),
        (lambda x: np.maximum(x, 0), "np.maximum was called on a device array"),
        (lambda x: x + np.ones(3), "x + y mixes a NumPy (host) array with a device array"),
        (lambda x: np.ones(3) * x, "np.multiply mixes a NumPy (host) array with a device array"),
        (lambda x: simdevice.maximum(x, np.zeros(3)), "xp.maximum mixes a NumPy (host) array"),
        (lambda x: x + [1.0, 2.0, 3.0], "got a Python list; make it an array on the device"),
    ],
)
def test_what_would_leave_the_device_is_refused_with_what_to_write(x, leak, says):
    with pytest.raises(
        TypeError, match=pytest.escape(says) if hasattr(pytest, "escape") else None
    ) as info:
        leak(x)
    assert says in str(info.value)
    assert "xp" in str(info.value) or ".get()" in str(info.value)


def test_asarray_is_the_way_onto_the_device_and_get_the_way_back():
    host = np.array([1.0, 2.0])
    dev = simdevice.asarray(host, dtype=np.float32)
    assert dev.dtype == np.float32 and isinstance(dev.get(), np.ndarray)
    assert simdevice.asarray(dev) is dev
    assert isinstance(simdevice.array([1, 2]), simdevice.DeviceArray)
    assert simdevice.float32 is np.float32 and simdevice.pi == np.pi
    assert isinstance(dev, simdevice.ndarray)
    with pytest.raises(AttributeError):
        simdevice.no_such_function  # noqa: B018


def test_the_module_is_not_mistaken_for_numpy_or_a_package():
    assert not hasattr(simdevice, "__path__")  # NumPy's would make it look like a package
    assert not hasattr(simdevice, "__wrapped__")
