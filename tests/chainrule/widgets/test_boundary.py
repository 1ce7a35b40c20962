"""Does the boundary explorer draw the boundary the weights imply, and follow the sliders?"""

import numpy as np
import pytest

from chainrule.activations import ACTIVATIONS
from chainrule.widgets import BoundaryExplorer
from chainrule.widgets.boundary import AARHUS_UNITS, clip_line

from ._png import changed

sigmoid = ACTIVATIONS["sigmoid"].f


def _on_line(points, w1, w2, b):
    return [abs(w1 * x1 + w2 * x2 + b) for x1, x2 in points]


def _drawn_segment(app):
    (line,) = [ln for ln in app.figure.axes[0].lines if ln.get_linestyle() == "-"]
    return np.column_stack(line.get_data())


def test_opens_on_the_lecture_unit_with_boundary_x2_equals_minus_x1_plus_3():
    app = BoundaryExplorer()
    assert app.values() == {**app.values(), "w1": 1.0, "w2": 1.0, "b": -3.0}
    ends = app.boundary
    assert max(_on_line(ends, 1.0, 1.0, -3.0)) < 1e-12
    assert sorted(ends) == [(-3.0, 6.0), (6.0, -3.0)]  # where x2 = -x1 + 3 leaves [-6, 6]^2
    np.testing.assert_allclose(_drawn_segment(app), np.array(ends))
    assert "x2 = -x1 + 3.00" in app.status.value
    assert app.figure.axes[0].get_title() == "p = σ(x1 + x2 - 3.0)"


def test_the_field_is_the_units_probability_on_a_200_by_200_grid():
    app = BoundaryExplorer()
    assert app.field.shape == (200, 200)
    g = np.linspace(-6, 6, 200)
    x1, x2 = np.meshgrid(g, g)
    np.testing.assert_allclose(app.field, sigmoid(x1 + x2 - 3.0), rtol=1e-12)
    # the shaded image is that field, rows along x2 (origin lower)
    (im,) = app.figure.axes[0].images
    np.testing.assert_array_equal(im.get_array(), app.field)
    assert im.origin == "lower" and tuple(im.get_extent()) == (-6.0, 6.0, -6.0, 6.0)


@pytest.mark.parametrize(
    "w1, w2, b, slope, intercept, said",
    [
        (1.0, 2.0, -3.0, -0.5, 1.5, "x2 = -0.50 x1 + 1.50"),
        (-2.0, 1.0, 1.0, 2.0, -1.0, "x2 = 2.00 x1 - 1.00"),
        (0.5, -0.5, 0.0, 1.0, 0.0, "x2 = x1."),
        (0.0, 2.0, 2.0, 0.0, -1.0, "x2 = -1.00."),
    ],
)
def test_moving_sliders_moves_the_line_and_redraws(w1, w2, b, slope, intercept, said):
    app = BoundaryExplorer()
    before, renders = app.image.value, app.renders
    app.set(w1=w1, w2=w2, b=b)
    assert app.renders == renders + 1  # several sliders, one redraw
    assert max(_on_line(app.boundary, w1, w2, b)) < 1e-9
    for x1, x2 in app.boundary:
        assert x2 == pytest.approx(slope * x1 + intercept)
    assert said in app.status.value
    assert changed(before, app.image.value) > 0.01


def test_a_single_slider_moved_by_hand_redraws_at_once():
    app = BoundaryExplorer()
    renders = app.renders
    app.sliders["b"].value = -1.0
    assert app.renders == renders + 1
    assert max(_on_line(app.boundary, 1.0, 1.0, -1.0)) < 1e-12


def test_class_1_lies_on_the_side_w_points_to():
    app = BoundaryExplorer()
    app.set(w1=-1.0, w2=2.0, b=0.5)
    (xa, ya), (xb, yb) = app.boundary
    mid = np.array([(xa + xb) / 2, (ya + yb) / 2])
    w = np.array([-1.0, 2.0]) / np.sqrt(5)
    assert app.probability([mid + w])[0] > 0.5 > app.probability([mid - w])[0]
    arrow = app._arrow  # from the middle of the boundary, along w
    np.testing.assert_allclose(arrow.xyann, mid)
    np.testing.assert_allclose(np.subtract(arrow.xy, arrow.xyann), 1.5 * w)


def test_vertical_and_missing_boundaries():
    app = BoundaryExplorer()
    app.set(w1=2.0, w2=0.0, b=-2.0)
    assert sorted(app.boundary) == [(1.0, -6.0), (1.0, 6.0)]
    assert "x1 = 1.00" in app.status.value
    app.set(w1=0.0, w2=0.0, b=2.0)
    assert app.boundary is None
    assert "No boundary: w = 0, so p = σ(b) = 0.88 everywhere" in app.status.value
    assert "class 1" in app.status.value
    app.set(b=0.0)  # p = 0.5 everywhere: p >= 0.5 predicts class 1
    assert "class 1" in app.status.value
    app.set(w1=0.1, w2=0.1, b=-5.0)  # the line x1 + x2 = 50 is far outside the window
    assert app.boundary is None and "class 0" in app.status.value


def test_three_units_naive_output_never_predicts_class_0():
    app = BoundaryExplorer("three")
    app.preset.value = "sigmoid(h1 + h2 + h3): never below 0.5"
    assert (app.values()["v1"], app.values()["c"]) == (1.0, 0.0)
    assert app.field.min() == pytest.approx(0.5000000564, abs=1e-10)  # the grid's minimum
    assert (app.field >= 0.5).all()
    assert "class 1 on 100%" in app.status.value


def test_three_units_triangle_preset_carves_out_the_triangle():
    app = BoundaryExplorer("three")  # opens on sigmoid(10 (h1 + h2 + h3) - 1)
    p = app.probability([[0.0, 0.0], [1.0, 0.0], [8.0, 8.0], [8.0, -8.0], [-8.0, 0.0]])
    assert p[0] < 0.5 and p[1] < 0.5  # inside the triangle: class 0
    assert (p[2:] > 0.5).all()  # beyond any one of the three lines: class 1
    for seg, (a1, a2, c) in zip(app.hidden_lines, AARHUS_UNITS):
        assert max(_on_line(seg, a1, a2, c)) < 1e-9
    # independently: the network written out
    x = np.array([3.0, -2.0])
    h = [sigmoid(a1 * x[0] + a2 * x[1] + c) for a1, a2, c in AARHUS_UNITS]
    assert app.probability([x])[0] == pytest.approx(sigmoid(10 * sum(h) - 1))


def test_switching_mode_swaps_the_sliders_and_redraws():
    app = BoundaryExplorer()
    before = app.image.value
    app.mode_buttons.value = "three"
    assert app.controls.children[0] is app._boxes["three"]
    assert app.boundary is None and len(app.hidden_lines) == 3
    assert changed(before, app.image.value) > 0.01
    app.mode_buttons.value = "unit"
    assert app.boundary is not None


def test_bad_values_show_a_message_not_a_traceback():
    app = BoundaryExplorer()
    app.sliders["w1"].value = float("nan")
    assert "slider w1 is nan" in app.error and "finite" in app.error
    app.sliders["w1"].value = 1.0
    assert app.error is None and app.boundary is not None


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="mode must be 'unit' or 'three', got 'two'"):
        BoundaryExplorer("two")
    with pytest.raises(KeyError, match=r"no slider \['w3'\]"):
        BoundaryExplorer().set(w3=1.0)
    for bad in (0, 1, -5, 3.5, "200"):
        with pytest.raises(ValueError, match=f"resolution must be .* at least 2, got {bad!r}"):
            BoundaryExplorer(resolution=bad)


def test_clip_line_finds_the_two_crossings():
    assert clip_line(1.0, -1.0, 0.0, (-1, 1, -1, 1)) == ((-1.0, -1.0), (1.0, 1.0))  # a diagonal
    assert clip_line(0.0, 1.0, -0.5, (-1, 1, -1, 1)) == ((-1.0, 0.5), (1.0, 0.5))
    assert clip_line(0.0, 0.0, 1.0, (-1, 1, -1, 1)) is None
    assert clip_line(1.0, 1.0, 10.0, (-1, 1, -1, 1)) is None
    assert clip_line(1.0, 1.0, -2.0, (-1, 1, -1, 1)) is None  # touches one corner only
