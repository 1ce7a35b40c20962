"""Argument predicates shared by the modules: one definition of "a number" everywhere."""

import numbers

__all__ = ["is_real", "is_integer"]


def is_real(v):
    """True for int, float and NumPy real scalars; False for bool, which is rarely meant."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def is_integer(v):
    """True for int and NumPy integer scalars; False for bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)
