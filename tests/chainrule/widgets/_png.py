"""Decode what an app rendered, to compare pictures rather than bytes."""

import io

import numpy as np
import PIL.Image


def pixels(png):
    """PNG bytes as an array of shape (height, width, 3), floats in [0, 1]."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", f"not a PNG: starts {png[:8]!r}"
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"), dtype=float) / 255.0


def changed(before, after):
    """Mean absolute pixel difference between two PNGs of the same size."""
    a, b = pixels(before), pixels(after)
    assert a.shape == b.shape, f"sizes differ: {a.shape} vs {b.shape}"
    return float(np.abs(a - b).mean())
