"""A simulated device on the CPU with CuPy's rules, for checking device-agnostic code without a GPU.

    from chainrule import simdevice
    from chainrule.backend import get_array_module

    x = simdevice.asarray(np.arange(3.0))   # now "on the device"
    xp = get_array_module(x)                # simdevice, where CuPy code would get cupy
    xp.exp(x), x @ x, x.sum(axis=0)         # work, and the results stay on the device
    x.get()                                 # copies back to the host: a NumPy array

What leaves the device by accident is refused, with a TypeError that says what to write:

- ``np.asarray(x)`` and other implicit conversions to NumPy (CuPy refuses them too);
- mixing a NumPy array into a device operation (``x + np.ones(3)``, ``xp.maximum(x, host)``):
  move it with ``xp.asarray`` first (CuPy refuses this too);
- NumPy's own functions on device arrays (``np.exp(x)``, ``np.zeros_like(x)``): CuPy lets some
  of these through, but code meant to run on any device calls ``xp.exp``.

Python numbers and NumPy scalars mix freely, as in CuPy. Arrays are computed by NumPy
underneath, so results equal NumPy's bit for bit: a function that is truly device-agnostic
gives the same numbers on both.
"""

import numpy as np

__all__ = ["DeviceArray", "ndarray", "asarray", "HOST_TO_DEVICE"]

HOST_TO_DEVICE = ("asarray", "array", "asanyarray", "ascontiguousarray")


class DeviceArray:
    """An array "on the simulated device": a NumPy array that refuses to leave it silently."""

    __slots__ = ("_a",)

    def __init__(self, a):
        self._a = a

    # -- leaving the device, on purpose or not -------------------------------------------

    def get(self):
        """Copy to the host: a NumPy array (as ``cupy.ndarray.get``)."""
        return self._a.copy()

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed (CuPy refuses it too): "
            "use x.get() or chainrule.backend.to_numpy(x) to copy a device array to the host"
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(i, np.ndarray) for i in inputs):
            raise TypeError(_mixed(f"np.{ufunc.__name__}"))
        raise TypeError(_numpy_called(f"np.{ufunc.__name__}", ufunc.__name__))

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(_numpy_called(f"np.{func.__name__}", func.__name__))

    # -- what an ndarray has ------------------------------------------------------------

    @property
    def shape(self):
        return self._a.shape

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def size(self):
        return self._a.size

    @property
    def T(self):  # noqa: N802 - ndarray's name
        return DeviceArray(self._a.T)

    def __getattr__(self, name):
        if name.startswith("__"):  # NumPy's protocols (__array_interface__, ...) stay closed
            raise AttributeError(name)
        attr = getattr(self._a, name)  # AttributeError names ndarray's missing attribute
        if callable(attr):
            return _wrap_callable(attr, f"x.{name}")
        return _to_device(attr)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (DeviceArray(np.asarray(v)) for v in self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __bool__(self):
        return bool(self._a)

    def __repr__(self):
        return f"DeviceArray({np.array2string(self._a, separator=', ')}, dtype={self.dtype})"

    def __getitem__(self, index):
        return _to_device(self._a[_index(index)])

    def __setitem__(self, index, value):
        self._a[_index(index)] = _operand(value, "x[...] = value")


def _index(index):
    """Indices may be device arrays, host arrays of indices (as CuPy allows), ints, slices."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return index._a if isinstance(index, DeviceArray) else index


def _operand(value, where):
    """An operator's other side: as ``_unwrap``, but a Python list or tuple is refused too."""
    if isinstance(value, (list, tuple)):
        raise TypeError(
            f"{where}: got a Python {type(value).__name__}; make it an array on the device "
            "first with xp.asarray(...)"
        )
    return _unwrap(value, where)


def _binary(name, symbol):
    def op(self, other):
        return _to_device(getattr(self._a, name)(_operand(other, f"x {symbol} y")))

    op.__name__ = name
    return op


def _unary(name):
    def op(self):
        return DeviceArray(getattr(self._a, name)())

    op.__name__ = name
    return op


for _name, _symbol in [
    ("add", "+"),
    ("sub", "-"),
    ("mul", "*"),
    ("truediv", "/"),
    ("floordiv", "//"),
    ("mod", "%"),
    ("pow", "**"),
    ("matmul", "@"),
    ("and", "&"),
    ("or", "|"),
    ("xor", "^"),
]:
    for _form in (f"__{_name}__", f"__r{_name}__", f"__i{_name}__"):
        setattr(DeviceArray, _form, _binary(_form, _symbol))
for _name, _symbol in [
    ("lt", "<"),
    ("le", "<="),
    ("gt", ">"),
    ("ge", ">="),
    ("eq", "=="),
    ("ne", "!="),
]:
    setattr(DeviceArray, f"__{_name}__", _binary(f"__{_name}__", _symbol))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    setattr(DeviceArray, _name, _unary(_name))
DeviceArray.__hash__ = None  # arrays are not hashable


def _to_device(value):
    """Results of a device operation: arrays and NumPy scalars stay on the device."""
    if isinstance(value, np.ndarray):
        return DeviceArray(value)
    if isinstance(value, np.generic):
        return DeviceArray(np.asarray(value))  # CuPy's reductions return 0-d arrays
    if isinstance(value, tuple):
        return tuple(_to_device(v) for v in value)
    if isinstance(value, list):
        return [_to_device(v) for v in value]
    return value


def _unwrap(value, where):
    """Arguments: device arrays to their data (in lists, tuples, dicts too); host arrays refused."""
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, where) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v, where) for k, v in value.items()}
    if isinstance(value, DeviceArray):
        return value._a
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise TypeError(_mixed(where))
    return value


def _wrap_callable(fn, where, host_ok=False):
    def call(*args, **kwargs):
        if host_ok:  # asarray and friends: the way onto the device
            args = tuple(a._a if isinstance(a, DeviceArray) else a for a in args)
        else:
            args, kwargs = _unwrap(args, where), _unwrap(kwargs, where)
        result = fn(*args, **kwargs)
        if type(result).__module__.startswith("numpy.random"):
            return _Namespace(result, f"{where}(...)")  # a Generator: its draws, on device
        return _to_device(result)

    call.__name__ = getattr(fn, "__name__", where)
    call.__doc__ = f"{where} on the simulated device (NumPy underneath)."
    return call


class _Namespace:
    """NumPy's submodules and objects (random, linalg, a Generator) as device functions."""

    def __init__(self, target, where):
        self._target, self._where = target, where

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if callable(attr):
            return _wrap_callable(attr, f"{self._where}.{name}")
        return attr


ndarray = DeviceArray  # as cupy.ndarray: isinstance(a, xp.ndarray) works on any device


def asarray(a, dtype=None):
    """Copy ``a`` (a NumPy array, a list, a number) onto the simulated device."""
    if isinstance(a, DeviceArray):
        return a if dtype is None else DeviceArray(a._a.astype(dtype))
    return DeviceArray(np.array(a, dtype=dtype))


def __getattr__(name):
    """``simdevice.exp``, ``simdevice.zeros``, ...: NumPy's function, kept on the device."""
    if name.startswith("__"):  # module protocol (__path__, __wrapped__, ...) is not NumPy's
        raise AttributeError(f"module 'chainrule.simdevice' has no attribute {name!r}")
    if name in ("random", "linalg"):
        return _Namespace(getattr(np, name), f"xp.{name}")
    attr = getattr(np, name)  # AttributeError: NumPy has no such name either
    if callable(attr) and not isinstance(attr, type):  # xp.float32 is NumPy's, as in CuPy
        return _wrap_callable(attr, f"xp.{name}", host_ok=name in HOST_TO_DEVICE)
    return attr  # constants and dtypes: xp.pi, xp.float32, xp.newaxis


def _mixed(where):
    return (
        f"{where} mixes a NumPy (host) array with a device array; CuPy refuses this too. Move "
        "the host array to the device first: xp.asarray(a), with xp = get_array_module(x)"
    )


def _numpy_called(where, name):
    return (
        f"{where} was called on a device array. Code that runs on any device calls the array "
        f"module of its inputs: xp = chainrule.backend.get_array_module(x), then xp.{name}(...)"
    )
