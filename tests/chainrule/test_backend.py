"""Tests for chainrule.backend: NumPy by default, CuPy only for CuPy arrays, no global state."""

import sys
import types

import numpy as np

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
