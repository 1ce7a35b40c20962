"""Do plot_decision_boundary, plot_activation and plot_loss_curve draw what they promise?"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from chainrule.activations import ACTIVATIONS  # noqa: E402
from chainrule.viz import (  # noqa: E402
    decision_grid,
    plot_activation,
    plot_decision_boundary,
    plot_loss_curve,
)

sigmoid = ACTIVATIONS["sigmoid"].f


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _contours(ax, filled):
    return [c for c in ax.collections if getattr(c, "filled", None) is filled]


def _vertices(contour_set):
    paths = [p.vertices for p in contour_set.get_paths() if len(p.vertices)]
    return np.concatenate(paths) if paths else np.empty((0, 2))


def _lecture_unit(P):
    """The Aarhus lecture's logistic unit: w = [1, 1], b = -3."""
    return sigmoid(P @ np.array([1.0, 1.0]) - 3.0)


# -- decision_grid --------------------------------------------------------------------------------


def test_decision_grid_lists_the_grid_row_by_row():
    """Are the points (M, 2) the meshgrid's (x1, x2) pairs, row by row, spanning the extent?"""
    xx, yy, points = decision_grid((-10, 10, -5, 5), resolution=7)
    assert xx.shape == yy.shape == (7, 7) and points.shape == (49, 2)
    np.testing.assert_array_equal(points[:, 0].reshape(7, 7), xx)
    np.testing.assert_array_equal(points[:, 1].reshape(7, 7), yy)
    assert (xx.min(), xx.max(), yy.min(), yy.max()) == (-10, 10, -5, 5)


def test_decision_grid_rejects_an_empty_extent():
    """Does an extent with min >= max raise a ValueError that shows it?"""
    with pytest.raises(ValueError, match=r"\(1, 1, 0, 2\)"):
        decision_grid((1, 1, 0, 2))


# -- plot_decision_boundary ---------------------------------------------------------------------


def test_boundary_of_the_lecture_unit_is_the_line_x2_equals_minus_x1_plus_3():
    """Does the 0.5 contour of sigma(x1 + x2 - 3) lie on x2 = -x1 + 3, across the whole plot?"""
    ax = plot_decision_boundary(_lecture_unit, extent=(-2, 6, -2, 6))
    (boundary,) = _contours(ax, filled=False)
    assert list(boundary.levels) == [0.5]
    v = _vertices(boundary)
    assert len(v) > 10
    np.testing.assert_allclose(v[:, 1], -v[:, 0] + 3.0, atol=1e-3)
    assert v[:, 0].min() < -1.9 and v[:, 0].max() > 4.9  # from x2 = 5 down to x2 = -2


def test_probabilities_shade_the_plane_from_0_to_1():
    """In probability mode, is the plane shaded by probability, in steps of 0.1 from 0 to 1?"""
    ax = plot_decision_boundary(_lecture_unit, extent=(-2, 6, -2, 6), resolution=50)
    (shading,) = _contours(ax, filled=True)
    np.testing.assert_allclose(shading.levels, np.linspace(0, 1, 11))


def test_no_boundary_where_one_class_is_predicted_everywhere():
    """Is no boundary drawn for a classifier whose output never drops below 0.5?"""

    def always_one(P):  # sigma(h1 + h2 + h3) of notebook 6: the sum is >= 0
        return sigmoid(sigmoid(P[:, 0]) + sigmoid(P[:, 1]))

    ax = plot_decision_boundary(always_one, extent=(-10, 10, -10, 10), resolution=40)
    assert _contours(ax, filled=False) == []
    assert len(_contours(ax, filled=True)) == 1


def test_scores_shade_each_region_by_its_argmax_class():
    """With (M, 3) scores, does each class get its own shaded region and boundaries between?"""

    def scores(P):  # class 0 left, class 1 right-bottom, class 2 right-top
        x1, x2 = P[:, 0], P[:, 1]
        return np.column_stack([-x1, x1 - x2, x1 + x2])

    ax = plot_decision_boundary(scores, extent=(-1, 1, -1, 1), resolution=60)
    (shading,) = _contours(ax, filled=True)
    (boundaries,) = _contours(ax, filled=False)
    np.testing.assert_allclose(shading.levels, [-0.5, 0.5, 1.5, 2.5])
    lines = [len(p.vertices) for p in boundaries.get_paths()]  # levels 0.5, 1.5, 2.5
    assert lines[0] > 0 and lines[1] > 0 and not any(lines[2:]), lines
    regions = shading.get_paths()
    assert len(regions) == 3 and all(len(p.vertices) for p in regions)
    for x1, x2, c in [(-0.8, 0.0, 0), (0.8, -0.5, 1), (0.8, 0.5, 2)]:
        assert regions[c].contains_point((x1, x2)), (x1, x2, c)
        others = [regions[o].contains_point((x1, x2)) for o in range(3) if o != c]
        assert not any(others), (x1, x2, c)


def test_scores_for_a_class_that_never_wins_leave_its_region_empty():
    """Does a class whose score never wins get no shaded region?"""

    def scores(P):
        return np.column_stack([P[:, 0], -P[:, 0], np.full(len(P), -10.0)])

    ax = plot_decision_boundary(scores, extent=(-1, 1, -1, 1), resolution=30)
    (shading,) = _contours(ax, filled=True)
    assert [len(p.vertices) > 0 for p in shading.get_paths()] == [True, True, False]


@pytest.mark.parametrize(
    ("returns", "shape"),
    [
        (lambda P: P.T, "(2, 100)"),
        (lambda P: np.zeros(len(P) + 1), "(101,)"),
        (lambda P: np.zeros((len(P), 2, 1)), "(100, 2, 1)"),
        (lambda P: 0.5, "()"),
    ],
)
def test_wrong_shaped_predict_raises_a_value_error_naming_the_shapes(returns, shape):
    """Does a predict with the wrong output shape raise ValueError naming its shape and ours?"""
    with pytest.raises(ValueError) as info:
        plot_decision_boundary(returns, extent=(0, 1, 0, 1), resolution=10)
    msg = str(info.value)
    assert f"shape {shape}" in msg and "for 100 points" in msg, msg
    assert "expected (100,) probabilities or (100, C) scores" in msg, msg


def test_points_are_drawn_with_their_labels_and_set_the_extent():
    """Are the points scattered per class, with a legend, inside the default extent?"""
    X = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0], [2.0, 3.0]])
    y = np.array([0, 1, 0, 1])
    ax = plot_decision_boundary(_lecture_unit, X, y, resolution=20, title="the unit")
    scatters = [c for c in ax.collections if c.get_label().startswith("class")]
    assert [c.get_label() for c in scatters] == ["class 0", "class 1"]
    np.testing.assert_array_equal(scatters[0].get_offsets(), X[y == 0])
    np.testing.assert_array_equal(scatters[1].get_offsets(), X[y == 1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    (lo, hi), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    assert lo < 0 and hi > 3 and bottom < 0 and top > 3
    assert ax.get_title() == "the unit"
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"


def test_default_extent_without_points_is_the_unit_square():
    """With neither X nor extent, is the plane [-1, 1]^2?"""
    ax = plot_decision_boundary(lambda P: sigmoid(P[:, 0]), resolution=20)
    assert ax.get_xlim() == (-1.0, 1.0) and ax.get_ylim() == (-1.0, 1.0)


def test_draws_into_the_axes_it_is_given():
    """Does it draw into ax when given one, and return that Axes?"""
    fig, axes = plt.subplots(1, 2)
    ax = plot_decision_boundary(_lecture_unit, ax=axes[1], extent=(-2, 6, -2, 6), resolution=20)
    assert ax is axes[1] and len(axes[0].collections) == 0 and len(ax.collections) == 2


# -- plot_activation ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_plot_shows_f_and_its_derivative(name):
    """Are the two curves f and f' over z_range, labelled with the formula, titled by name?"""
    act = ACTIVATIONS[name]
    ax = plot_activation(name, z_range=(-3.0, 4.0))
    curves = {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}
    assert set(curves) == {f"f(z) = {act.formula}", "f'(z)"}
    f_line, df_line = curves[f"f(z) = {act.formula}"], curves["f'(z)"]
    z = f_line.get_xdata()
    assert z[0] == -3.0 and z[-1] == 4.0
    np.testing.assert_allclose(f_line.get_ydata(), act.f(z))
    np.testing.assert_allclose(df_line.get_ydata(), act.df(z))
    assert ax.get_title() == name and ax.get_xlabel() == "z"


def _shaded_z(ax):
    """The z values inside the grey 'gradient vanishes' band."""
    (band,) = ax.collections
    paths = [p.vertices[:, 0] for p in band.get_paths() if len(p.vertices)]
    return np.concatenate(paths) if paths else np.empty(0)


def test_saturated_regions_of_the_sigmoid_are_shaded():
    """Is the sigmoid shaded only where sigma' < 0.05, i.e. |z| beyond about 2.94?"""
    z = _shaded_z(plot_activation("sigmoid"))  # sampled every 0.025
    assert len(z) and np.all(np.abs(z) > 2.85)
    assert z.min() == -5.0 and z.max() == 5.0


def test_relu_is_shaded_where_it_is_dead_and_linear_nowhere():
    """Is ReLU shaded for z <= 0 only, and the linear activation not at all?"""
    z = _shaded_z(plot_activation("relu"))
    assert len(z) and z.max() <= 0.03 and z.min() == -5.0
    assert len(_shaded_z(plot_activation("linear"))) == 0


def test_vanish_threshold_is_configurable():
    """With vanish_below=0.3, is the whole sigmoid shaded (sigma' <= 0.25 everywhere)?"""
    z = _shaded_z(plot_activation("sigmoid", vanish_below=0.3))
    assert z.min() == -5.0 and z.max() == 5.0 and np.any(np.abs(z) < 0.1)


def test_unknown_activation_raises_a_value_error_listing_the_names():
    """Does plot_activation('nope') raise the lookup's ValueError, naming the valid ones?"""
    with pytest.raises(ValueError, match="no activation 'nope'; expected one of: linear"):
        plot_activation("nope")


# -- plot_loss_curve ----------------------------------------------------------------------------


def test_loss_curve_draws_training_loss_against_step():
    """Is the training loss drawn at steps 0, 1, 2, ..., with axis labels and a legend?"""
    train = [2.0, 1.5, 1.1, 0.9, 0.8]
    ax = plot_loss_curve(train, ylabel="cross-entropy")
    (line,) = ax.lines
    assert line.get_label() == "training"
    np.testing.assert_array_equal(line.get_xdata(), np.arange(5))
    np.testing.assert_array_equal(line.get_ydata(), train)
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "cross-entropy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training"]


def test_validation_loss_is_drawn_every_few_steps():
    """With val measured every 3 steps, is it drawn at steps 0, 3, 6, ... beside training?"""
    ax = plot_loss_curve(np.linspace(2, 1, 9), val=[2.1, 1.7, 1.4], every=3)
    train, val = ax.lines
    assert (train.get_label(), val.get_label()) == ("training", "validation")
    np.testing.assert_array_equal(val.get_xdata(), [0, 3, 6])
    np.testing.assert_array_equal(val.get_ydata(), [2.1, 1.7, 1.4])
    assert ax.get_ylabel() == "loss"
