"""Tests for chainrule.backend: NumPy by default, CuPy only for CuPy arrays, no global state."""

import sys
import types

import numpy as np
import pytest

from chainrule import backend


def test_numpy_arrays_numbers_and_lists_select_numpy():
    """Do NumPy arrays, Python numbers, lists and None all select numpy?"""
    assert backend.get_array_module(np.zeros(2), 1.0, [1, 2], None) is np
    assert backend.get_array_module() is np


def test_a_cupy_array_selects_cupy(monkeypatch):
    """With cupy imported, does one cupy.ndarray among the arguments select cupy?

    A stand-in module plays CuPy so this runs without a GPU; the real one is tested in the GPU
    section's tests.
    """
    fake = types.ModuleType("cupy")

    class ndarray:  # noqa: N801 - mirrors cupy.ndarray
        def get(self):
            return np.arange(3.0)

    fake.ndarray = ndarray
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert backend.get_array_module(np.zeros(1), ndarray()) is fake
    assert backend.get_array_module(np.zeros(1)) is np
    np.testing.assert_array_equal(backend.to_numpy(ndarray()), [0.0, 1.0, 2.0])


def test_to_numpy_passes_numpy_through():
    """Does to_numpy return NumPy input as a NumPy array without copying?"""
    a = np.arange(4.0)
    assert backend.to_numpy(a) is a
    np.testing.assert_array_equal(backend.to_numpy([1, 2]), [1, 2])


# -- gpu_available and to_device ----------------------------------------------------------------


def _fake_cupy(monkeypatch, count=1, fails=None):
    """A stand-in CuPy with ``count`` devices; ``fails`` makes its first kernel raise."""
    fake = types.ModuleType("cupy")

    class ndarray:  # noqa: N801 - mirrors cupy.ndarray
        def __init__(self, a):
            self.a = np.asarray(a)

        def get(self):
            return self.a.copy()

        def sum(self):
            if fails:
                raise fails
            return self.a.sum()

    fake.ndarray = ndarray
    fake.asarray = ndarray
    fake.arange = lambda n: ndarray(np.arange(n))
    device = types.SimpleNamespace(id=0)
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: count, getDeviceProperties=lambda i: {"name": b"Fake GPU 80GB"}
    )
    fake.cuda = types.SimpleNamespace(runtime=runtime, Device=lambda: device)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    backend.gpu_available.cache_clear()
    return fake


def test_gpu_available_says_why_not_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    backend.gpu_available.cache_clear()
    try:
        status = backend.gpu_available()
        assert not status and status.available is False
        assert "CuPy is not installed" in status.reason and ".[gpu]" in status.reason
    finally:
        backend.gpu_available.cache_clear()


@pytest.mark.parametrize(
    "count, fails, says",
    [
        (0, None, "sees no CUDA device"),
        (1, RuntimeError("cudaErrorInsufficientDriver"), "cudaErrorInsufficientDriver"),
    ],
)
def test_gpu_available_says_why_not_when_cuda_fails(monkeypatch, count, fails, says):
    _fake_cupy(monkeypatch, count=count, fails=fails)
    try:
        status = backend.gpu_available()
        assert not status and says in status.reason
    finally:
        backend.gpu_available.cache_clear()


def test_gpu_available_names_the_device_and_to_device_copies_there(monkeypatch):
    fake = _fake_cupy(monkeypatch)
    try:
        status = backend.gpu_available()
        assert status and status.reason == "Fake GPU 80GB (CUDA device 0 of 1)"
        params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
        on_gpu = backend.to_device(params, "gpu")
        assert all(isinstance(v, fake.ndarray) for v in on_gpu.values())
        back = backend.to_device(on_gpu, "cpu")
        np.testing.assert_array_equal(back["W"], params["W"])
        assert isinstance(back["b"], np.ndarray)
    finally:
        backend.gpu_available.cache_clear()


def test_to_device_refuses_the_gpu_with_the_reason_and_unknown_devices(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    backend.gpu_available.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="no GPU to copy to: CuPy is not installed"):
            backend.to_device(np.zeros(2), "gpu")
    finally:
        backend.gpu_available.cache_clear()
    with pytest.raises(
        ValueError, match=r"device must be one of \('cpu', 'gpu', 'sim'\), got 'tpu'"
    ):
        backend.to_device(np.zeros(2), "tpu")


def test_to_device_keeps_containers_and_round_trips_through_the_simulated_device():
    from chainrule import simdevice

    x, y = np.arange(3.0), np.array([1, 0, 2])
    dx, dy = backend.to_device((x, y), "sim")
    assert isinstance(dx, simdevice.DeviceArray) and backend.get_array_module(dy) is simdevice
    listed = backend.to_device([x], "sim")
    assert isinstance(listed, list)
    np.testing.assert_array_equal(backend.to_device(dx, "cpu"), x)
    assert backend.to_device(dx, "sim") is dx and backend.to_device(x, "cpu") is x
