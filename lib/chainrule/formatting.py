"""Numbers and names as the slides print them, for the backward-pass lines, plots and widgets."""

__all__ = ["fmt", "wrap"]


def fmt(v):
    """A number as the slides print it: two decimals, or scientific when that would hide it."""
    return f"{v:.2f}" if v == 0 or 0.005 <= abs(v) < 1e5 else f"{v:.2e}"


def wrap(name):
    """A node name ready to sit inside a formula: ``x`` stays, ``w0*x0`` becomes ``(w0*x0)``."""
    return name if name.isidentifier() else f"({name})"
