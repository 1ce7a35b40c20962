"""Array-module selection: NumPy by default, CuPy when the arrays live on a GPU.

Code written against ``xp = get_array_module(*arrays)`` runs unchanged on NumPy and CuPy arrays,
which is how ``chainrule.layers`` supports both. There is no global switch: the module is
chosen from the arrays themselves, so nothing needs resetting between tests.

    status = gpu_available()          # truthy when CuPy sees a GPU; status.reason says why not
    W = to_device(W, "gpu")           # NumPy -> CuPy (also dicts, lists and tuples of arrays)
    W = to_device(W, "cpu")           # CuPy -> NumPy, as to_numpy does

``chainrule.simdevice`` is a stand-in device on the CPU with CuPy's rules (no silent copies to
the host), for checking device-agnostic code where there is no GPU; ``get_array_module``
recognises its arrays too.
"""

import functools
import sys
from dataclasses import dataclass

import numpy as np

__all__ = ["get_array_module", "to_numpy", "to_device", "gpu_available", "GpuStatus", "DEVICES"]

DEVICES = ("cpu", "gpu", "sim")


def get_array_module(*arrays):
    """Return the array module (``numpy``, ``cupy`` or ``simdevice``) that ``arrays`` belong to.

    Follows ``cupy.get_array_module``: CuPy if any argument is a ``cupy.ndarray``, NumPy
    otherwise (Python numbers, lists and ``None`` count as NumPy). CuPy is never imported
    here: if the caller has not imported it, no argument can be a CuPy array. Arrays of the
    simulated device (``chainrule.simdevice``) select that module.
    """
    cupy = sys.modules.get("cupy")
    sim = sys.modules.get("chainrule.simdevice")
    for a in arrays:
        if cupy is not None and isinstance(a, cupy.ndarray):
            return cupy
        if sim is not None and isinstance(a, sim.DeviceArray):
            return sim
    return np


def to_numpy(a):
    """Return ``a`` as a NumPy array, copying it to the host if it lives on a device."""
    if get_array_module(a) is not np:
        return a.get()
    return np.asarray(a)


def to_device(a, device):
    """Copy ``a`` to ``device``: "gpu" (CuPy), "cpu" (NumPy) or "sim" (``chainrule.simdevice``).

    ``a`` may be an array or a dict, list or tuple of them (a net's ``params``), returned as
    the same kind of container. Arrays already there are returned as they are. Asking for the
    GPU where there is none raises ``RuntimeError`` with ``gpu_available()``'s reason.
    """
    if device not in DEVICES:
        raise ValueError(f"to_device: device must be one of {DEVICES}, got {device!r}")
    if isinstance(a, dict):
        return {k: to_device(v, device) for k, v in a.items()}
    if isinstance(a, (list, tuple)):
        return type(a)(to_device(v, device) for v in a)
    if device == "cpu":
        return to_numpy(a)
    if device == "sim":
        from . import simdevice

        return a if isinstance(a, simdevice.DeviceArray) else simdevice.asarray(to_numpy(a))
    status = gpu_available()
    if not status:
        raise RuntimeError(f"to_device(..., 'gpu'): no GPU to copy to: {status.reason}")
    import cupy

    return cupy.asarray(to_numpy(a) if get_array_module(a) is not cupy else a)


@dataclass(frozen=True)
class GpuStatus:
    """Whether a GPU can be used; true in an ``if`` exactly when it can.

    ``reason`` says why not (CuPy missing, no CUDA device, a driver error), or names the
    device when there is one.
    """

    available: bool
    reason: str

    def __bool__(self):
        return self.available


@functools.lru_cache(maxsize=1)
def gpu_available():
    """Check once whether CuPy is installed and can run on a GPU; return a ``GpuStatus``.

    The answer is cached; ``gpu_available.cache_clear()`` asks again (tests do).
    """
    try:
        import cupy
    except ImportError as exc:
        return GpuStatus(
            False,
            f"CuPy is not installed ({exc}); install it with pip install -e '.[gpu]' (CUDA 12) "
            "or '.[gpu-cuda13]' (CUDA 13)",
        )
    except Exception as exc:  # a broken CUDA install can fail at import time
        return GpuStatus(False, f"CuPy failed to import: {type(exc).__name__}: {exc}")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count == 0:
            return GpuStatus(False, "CuPy is installed but sees no CUDA device")
        assert int(cupy.arange(3).sum()) == 3  # compiles and runs a kernel
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    except Exception as exc:  # no driver, no device, a kernel that cannot compile
        return GpuStatus(False, f"CuPy cannot use a GPU: {type(exc).__name__}: {exc}")
    return GpuStatus(True, f"{name} (CUDA device {cupy.cuda.Device().id} of {count})")
