"""Small 2-D datasets generated in code from a seed: nothing is downloaded.

Each function returns ``(X, y)``: ``X`` of shape (n, 2), float64, and ``y`` of shape (n,),
int64 class labels 0, 1, ... The same arguments always give the same arrays.

    X, y = spirals(300, classes=3)     # CS231n's spiral data: K arms, not linearly separable
    X, y = xor(4, noise=0.0)           # exactly XOR's truth table
"""

import numbers

import numpy as np

from ._checks import is_integer, is_real

__all__ = ["xor", "circles", "spirals", "blobs", "moons", "split", "DATASETS"]


def xor(n=200, noise=0.1, seed=0):
    """XOR: points near the corners of the unit square, labelled x1 XOR x2.

    Point i sits at corner i % 4 of (0, 0), (0, 1), (1, 0), (1, 1), plus Gaussian noise of
    standard deviation ``noise``: ``xor(4, noise=0.0)`` is the truth table, in that order.

    Returns X of shape (n, 2) and y of shape (n,), y = 1 where exactly one coordinate is 1.
    """
    n, noise = _count(n, "xor"), _noise(noise, "xor")
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    k = np.arange(n) % 4
    return corners[k] + noise * rng.standard_normal((n, 2)), labels[k].astype(np.int64)


def circles(n=200, noise=0.1, factor=0.5, seed=0):
    """Two concentric circles: radius 1 (label 0) around radius ``factor`` (label 1).

    Returns X of shape (n, 2) and y of shape (n,); half the points (rounded up) are outer.
    """
    n, noise = _count(n, "circles"), _noise(noise, "circles")
    if not is_real(factor) or not 0 < factor < 1:
        raise ValueError(
            f"circles: factor (inner radius / outer) must lie in (0, 1), got {factor!r}"
        )
    rng = np.random.default_rng(seed)
    y = (np.arange(n) >= (n + 1) // 2).astype(np.int64)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    radius = np.where(y == 1, factor, 1.0)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X + noise * rng.standard_normal((n, 2)), y


def spirals(n=300, classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class (CS231n's spiral dataset).

    Arm j has radius growing from 0 to 1 while its angle sweeps 4 radians starting at 4j, with
    Gaussian noise of standard deviation ``noise`` on the angle.

    Returns X of shape (n, 2) and y of shape (n,); classes get n // classes points each, the
    first n % classes classes one more. Each arm needs at least 2 points (n >= 2 * classes).
    """
    n, noise = _count(n, "spirals"), _noise(noise, "spirals")
    classes = _classes(classes, "spirals")
    if n < 2 * classes:
        raise ValueError(
            f"spirals: n = {n} gives some of the {classes} arms fewer than 2 points; "
            f"use n >= {2 * classes}"
        )
    rng = np.random.default_rng(seed)
    y = np.sort(np.arange(n) % classes).astype(np.int64)
    X = np.empty((n, 2))
    for j in range(classes):
        idx = np.flatnonzero(y == j)
        r = np.linspace(0.0, 1.0, idx.size)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), idx.size) + noise * rng.standard_normal(idx.size)
        X[idx] = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return X, y


def blobs(n=200, centers=3, std=1.0, seed=0):
    """Gaussian blobs, one per class.

    ``centers`` is a number of classes (centres evenly spaced on a circle of radius 4) or an
    array of shape (classes, 2). Each blob has standard deviation ``std``.

    Returns X of shape (n, 2) and y of shape (n,), labels cycling 0, 1, ..., classes - 1.
    """
    n, std = _count(n, "blobs"), _noise(std, "blobs", "std")
    if isinstance(centers, numbers.Integral):
        k = _classes(centers, "blobs", "centers")
        angle = 2.0 * np.pi * np.arange(k) / k
        centers = 4.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    centers = np.asarray(centers, dtype=float)
    if centers.ndim != 2 or centers.shape[1] != 2 or centers.shape[0] < 2:
        raise ValueError(
            f"blobs: centers must be a number of classes >= 2 or an array of shape (classes, 2), "
            f"got shape {centers.shape}"
        )
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % centers.shape[0]).astype(np.int64)
    return centers[y] + std * rng.standard_normal((n, 2)), y


def moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles: the upper arc (label 0) and the lower, shifted arc (label 1).

    Returns X of shape (n, 2) and y of shape (n,); half the points (rounded up) are label 0.
    """
    n, noise = _count(n, "moons"), _noise(noise, "moons")
    rng = np.random.default_rng(seed)
    y = (np.arange(n) >= (n + 1) // 2).astype(np.int64)
    t = rng.uniform(0.0, np.pi, n)
    X = np.where(
        (y == 0)[:, None],
        np.column_stack([np.cos(t), np.sin(t)]),
        np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)]),
    )
    return X + noise * rng.standard_normal((n, 2)), y


def split(X, y, fraction=0.2, seed=0):
    """Shuffle and split into training and validation parts.

    Inputs:
    - X: of shape (n, ...), y: of shape (n,)
    - fraction: the share of points held out for validation, in (0, 1)

    Returns X_train, y_train, X_val, y_val (the validation part has round(fraction * n) points;
    both parts must end up non-empty).
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[:1] != y.shape[:1]:
        raise ValueError(f"split: X {X.shape} and y {y.shape} must have the same first dimension")
    if not is_real(fraction) or not 0 < fraction < 1:
        raise ValueError(f"split: fraction must lie in (0, 1), got {fraction!r}")
    k = round(fraction * len(y))
    if not 0 < k < len(y):
        raise ValueError(
            f"split: fraction {fraction} of {len(y)} points leaves {k} for validation and "
            f"{len(y) - k} for training; both need at least one"
        )
    order = np.random.default_rng(seed).permutation(len(y))
    val, train = order[:k], order[k:]
    return X[train], y[train], X[val], y[val]


DATASETS = {"xor": xor, "circles": circles, "spirals": spirals, "blobs": blobs, "moons": moons}


def _count(n, where):
    if not is_integer(n) or n < 1:
        raise ValueError(f"{where}: n must be a positive integer number of points, got {n!r}")
    return int(n)


def _noise(value, where, name="noise"):
    if not is_real(value) or not value >= 0:
        raise ValueError(f"{where}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def _classes(k, where, name="classes"):
    if not is_integer(k) or k < 2:
        raise ValueError(f"{where}: {name} must be an integer >= 2, got {k!r}")
    return int(k)
