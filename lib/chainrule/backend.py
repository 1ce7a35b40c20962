"""Array-module selection: NumPy by default, CuPy when the arrays live on a GPU.

Code written against ``xp = get_array_module(*arrays)`` runs unchanged on NumPy and CuPy arrays,
which is how ``chainrule.layers`` supports both. There is no global switch: the module is
chosen from the arrays themselves, so nothing needs resetting between tests.
"""

import sys

import numpy as np

__all__ = ["get_array_module", "to_numpy"]


def get_array_module(*arrays):
    """Return the array module (``numpy`` or ``cupy``) that ``arrays`` belong to.

    Follows ``cupy.get_array_module``: CuPy if any argument is a ``cupy.ndarray``, NumPy
    otherwise (Python numbers, lists and ``None`` count as NumPy). CuPy is never imported
    here: if the caller has not imported it, no argument can be a CuPy array.
    """
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def to_numpy(a):
    """Return ``a`` as a NumPy array, copying it to the host if it is a CuPy array."""
    if get_array_module(a) is not np:
        return a.get()
    return np.asarray(a)
