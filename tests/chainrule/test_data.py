"""Tests for chainrule.data: shapes, labels, determinism, geometry and argument errors."""

import numpy as np
import pytest

from chainrule import data


@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_shapes_dtypes_and_determinism(name):
    """Does each dataset give (n, 2) float64 points and (n,) int64 labels, the same per seed?"""
    make = data.DATASETS[name]
    X, y = make(101)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert np.isfinite(X).all()
    X2, y2 = make(101)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(101, seed=1)
    assert not np.array_equal(X, X3)


def test_xor_without_noise_is_the_truth_table():
    """Is xor(4, noise=0) exactly (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0?"""
    X, y = data.xor(4, noise=0.0)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_xor_labels_follow_the_nearest_corner():
    """With small noise, is every label the XOR of its rounded coordinates?"""
    X, y = data.xor(400, noise=0.1)
    corners = np.clip(np.round(X), 0, 1).astype(int)
    assert np.mean((corners[:, 0] ^ corners[:, 1]) == y) > 0.99


def test_circles_radii():
    """Without noise, do label-0 points lie on radius 1 and label-1 points on radius factor?"""
    X, y = data.circles(200, noise=0.0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    assert np.bincount(y).tolist() == [100, 100]


def test_spirals_have_one_arm_per_class_with_radius_up_to_one():
    """Are spiral classes balanced, and do radii run from 0 to 1 along each arm?"""
    X, y = data.spirals(300, classes=3, noise=0.0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    for k in range(3):
        r = np.hypot(*X[y == k].T)
        assert r[0] == pytest.approx(0.0) and r[-1] == pytest.approx(1.0)
    assert np.bincount(data.spirals(7, classes=3)[1]).tolist() == [3, 2, 2]


def test_blobs_gather_around_their_centres():
    """Is each blob's mean near its given centre?"""
    centers = np.array([[-5.0, 0.0], [5.0, 0.0]])
    X, y = data.blobs(400, centers=centers, std=0.5)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.15)


def test_moons_without_noise_lie_on_their_arcs():
    """Do moon points lie on unit arcs centred at (0, 0) and (1, 0.5)?"""
    X, y = data.moons(100, noise=0.0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1.0, X[y == 1, 1] - 0.5), 1.0)


def test_split_holds_out_the_requested_share_without_overlap():
    """Does split keep every point exactly once, with round(fraction * n) for validation?"""
    X, y = data.moons(50)
    X_tr, y_tr, X_va, y_va = data.split(X, y, fraction=0.2)
    assert len(y_va) == 10 and len(y_tr) == 40
    both = np.concatenate([X_tr, X_va])
    assert sorted(map(tuple, both)) == sorted(map(tuple, X))


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: data.xor(0), r"xor: n must be a positive integer number of points, got 0"),
        (lambda: data.moons(2.5), r"moons: n must be a positive integer number of points, got 2.5"),
        (lambda: data.circles(10, noise=-1), r"circles: noise must be a number >= 0, got -1"),
        (lambda: data.circles(10, factor=1.5), r"circles: factor .* must lie in \(0, 1\), got 1.5"),
        (lambda: data.spirals(10, classes=1), r"spirals: classes must be an integer >= 2, got 1"),
        (lambda: data.blobs(10, centers=[[0, 0]]), r"blobs: centers must be .* got shape \(1, 2\)"),
        (lambda: data.split(np.zeros((3, 2)), np.zeros(4)), r"split: X \(3, 2\) and y \(4,\)"),
        (lambda: data.split(np.zeros((3, 2)), np.zeros(3), 1.0), r"fraction must lie in \(0, 1\)"),
        (lambda: data.split(*data.xor(2), fraction=0.2), r"leaves 0 for validation and 2 for"),
        (
            lambda: data.circles(10, factor=None),
            r"circles: factor .* must lie in \(0, 1\), got None",
        ),
        (
            lambda: data.spirals(5, classes=3),
            r"spirals: n = 5 gives some of the 3 arms fewer than 2",
        ),
    ],
)
def test_bad_arguments_say_what_they_got(call, pattern):
    """Does each bad argument raise a ValueError naming the dataset, the argument and the value?"""
    with pytest.raises(ValueError, match=pattern):
        call()
