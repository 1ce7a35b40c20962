"""Tests for chainrule.activations: derivatives against HIPS autograd and numerical gradients,
the kink convention, overflow, shapes, maxout, and the lookup by name."""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from chainrule import layers
from chainrule.activations import ACTIVATIONS, activation, maxout, maxout_grad
from chainrule.gradcheck import numerical_gradient

LECTURE_NAMES = [
    "linear",
    "hard_threshold",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
]

# The lectures' formulas written independently, in autograd.numpy: autograd differentiates them.
REFERENCE = {
    "linear": lambda z: z,
    "hard_threshold": lambda z: anp.where(z > 0, 1.0, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + anp.exp(-z)),
    "tanh": lambda z: (anp.exp(z) - anp.exp(-z)) / (anp.exp(z) + anp.exp(-z)),  # CSC413's form
    "relu": lambda z: anp.maximum(0.0, z),
    "leaky_relu": lambda z: anp.maximum(0.1 * z, z),
    "elu": lambda z: anp.where(z > 0, z, anp.exp(z) - 1.0),
    "softplus": lambda z: anp.log(1.0 + anp.exp(z)),
}

# Away from every kink (all of them sit at z = 0) and in the range where the plain formulas
# above do not overflow.
SMOOTH_POINTS = np.array([-6.0, -2.5, -1.0, -0.3, -1e-3, 1e-3, 0.4, 1.5, 3.0, 7.0])


def test_the_table_holds_the_lectures_activations():
    """Does ACTIVATIONS hold exactly the lectures' eight elementwise activations, by name?"""
    assert list(ACTIVATIONS) == LECTURE_NAMES
    for name, act in ACTIVATIONS.items():
        assert act.name == name and act.formula
        assert activation(name) is act


@pytest.mark.parametrize("name", LECTURE_NAMES)
def test_values_match_the_lecture_formulas(name):
    """Is f(z) the lecture's formula (sigmoid, tanh, max(0.1z, z), log(1 + e^z), ...)?"""
    got = ACTIVATIONS[name].f(SMOOTH_POINTS)
    np.testing.assert_allclose(got, REFERENCE[name](SMOOTH_POINTS), rtol=1e-13, atol=1e-15)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # the threshold's 0
@pytest.mark.parametrize("name", LECTURE_NAMES)
def test_derivative_matches_autograd(name):
    """Away from kinks, is df(z) what autograd gets by differentiating the formula?"""
    want = autograd.elementwise_grad(REFERENCE[name])(SMOOTH_POINTS)
    got = ACTIVATIONS[name].df(SMOOTH_POINTS)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", LECTURE_NAMES)
def test_derivative_matches_the_numerical_gradient(name):
    """Away from kinks, does df(z) agree with centered differences of f?"""
    act = ACTIVATIONS[name]
    z = SMOOTH_POINTS.copy()
    want = numerical_gradient(act.f, z, upstream=np.ones_like(z))
    np.testing.assert_allclose(act.df(SMOOTH_POINTS), want, rtol=1e-7, atol=1e-9)


LIMITS = {  # f(-1000), f(1000), df(-1000), df(1000)
    "linear": (-1000.0, 1000.0, 1.0, 1.0),
    "hard_threshold": (0.0, 1.0, 0.0, 0.0),
    "sigmoid": (0.0, 1.0, 0.0, 0.0),
    "tanh": (-1.0, 1.0, 0.0, 0.0),
    "relu": (0.0, 1000.0, 0.0, 1.0),
    "leaky_relu": (-100.0, 1000.0, 0.1, 1.0),
    "elu": (-1.0, 1000.0, 0.0, 1.0),
    "softplus": (0.0, 1000.0, 0.0, 1.0),
}


@pytest.mark.parametrize("name", LECTURE_NAMES)
def test_large_inputs_neither_overflow_nor_give_nan(name):
    """At z = -1000 and 1000, are f and df finite, right, and computed without overflow?"""
    act = ACTIVATIONS[name]
    z = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        f, df = act.f(z), act.df(z)
    f_lo, f_hi, df_lo, df_hi = LIMITS[name]
    np.testing.assert_allclose(f, [f_lo, f_hi], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(df, [df_lo, df_hi], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", LECTURE_NAMES)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
def test_shapes_are_preserved(name, shape):
    """Do f and df return arrays of z's shape, for a 0-d array up to a 3-d one?"""
    z = np.random.default_rng(7).normal(size=shape)
    act = ACTIVATIONS[name]
    assert np.shape(act.f(z)) == shape
    assert np.shape(act.df(z)) == shape


@pytest.mark.parametrize("name", LECTURE_NAMES)
def test_integer_inputs_give_the_values_of_float_inputs(name):
    """Does an integer array give the same values as the same numbers as floats?"""
    z = np.array([-3, -1, 0, 2, 5])
    act = ACTIVATIONS[name]
    np.testing.assert_allclose(act.f(z), act.f(z.astype(float)), rtol=1e-15)
    np.testing.assert_allclose(act.df(z), act.df(z.astype(float)), rtol=1e-15)


@pytest.mark.parametrize(
    ("name", "value", "slope"),
    [("relu", 0.0, 0.0), ("leaky_relu", 0.0, 0.1), ("elu", 0.0, 1.0), ("hard_threshold", 0.0, 0.0)],
)
def test_kink_takes_the_derivative_from_the_left(name, value, slope):
    """At z = 0, are f(0) and df(0) the values from the left (relu'(0) == 0, leaky 0.1)?"""
    act = ACTIVATIONS[name]
    assert act.f(np.array(0.0)) == value
    assert act.df(np.array(0.0)) == slope
    assert act.df(np.array([0.0, -0.0])).tolist() == [slope, slope]


def test_relu_derivative_agrees_with_the_relu_layer():
    """Does relu's df give what layers.relu_backward passes, kink included?"""
    x = np.array([[-2.0, 0.0, 1e-12], [3.0, -1e-12, 0.5]])
    dout = np.arange(1.0, 7.0).reshape(2, 3)
    _, cache = layers.relu_forward(x)
    np.testing.assert_array_equal(
        layers.relu_backward(dout, cache), dout * ACTIVATIONS["relu"].df(x)
    )


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_smooth_derivatives_agree_with_their_layers(name):
    """Are sigmoid's and tanh's df the local gradients of layers.<name>_backward?"""
    x = np.random.default_rng(3).normal(scale=3.0, size=(4, 5))
    dout = np.random.default_rng(4).normal(size=(4, 5))
    forward, backward = getattr(layers, f"{name}_forward"), getattr(layers, f"{name}_backward")
    _, cache = forward(x)
    np.testing.assert_allclose(
        backward(dout, cache), dout * ACTIVATIONS[name].df(x), rtol=1e-12, atol=1e-15
    )


def test_softplus_derivative_is_the_sigmoid():
    """Is d log(1 + e^z)/dz = sigma(z), everywhere including z = +-1000?"""
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 2.0, 30.0, 1000.0])
    np.testing.assert_array_equal(ACTIVATIONS["softplus"].df(z), ACTIVATIONS["sigmoid"].f(z))


# -- maxout -------------------------------------------------------------------------------------


def test_maxout_with_default_pieces_is_leaky_relu():
    """Is maxout(z) with the default pieces (slopes 1 and 0.1) the lecture's leaky ReLU?"""
    z = np.random.default_rng(11).normal(scale=4.0, size=(3, 7))
    np.testing.assert_array_equal(maxout(z), ACTIVATIONS["leaky_relu"].f(z))
    np.testing.assert_array_equal(maxout_grad(z), ACTIVATIONS["leaky_relu"].df(z))


def test_maxout_with_slopes_one_and_zero_is_relu():
    """Is max(z, 0), maxout with pieces (1, 0) and (0, 0), ReLU, with ReLU's derivative?"""
    z = np.random.default_rng(12).normal(size=20)
    np.testing.assert_allclose(maxout(z, (1.0, 0.0), (0.0, 0.0)), ACTIVATIONS["relu"].f(z))
    np.testing.assert_array_equal(maxout_grad(z, (1.0, 0.0), (0.0, 0.0)), ACTIVATIONS["relu"].df(z))


def test_maxout_grad_picks_the_winning_slope():
    """With pieces -z, 0.5z + 1, 2z - 2, is the derivative -1, 0.5, 2 where each one wins?"""
    w, b = (-1.0, 0.5, 2.0), (0.0, 1.0, -2.0)
    z = np.array([-3.0, -1.0, 0.0, 1.0, 1.9, 2.1, 4.0])
    np.testing.assert_array_equal(maxout(z, w, b), [3.0, 1.0, 1.0, 1.5, 1.95, 2.2, 6.0])
    np.testing.assert_array_equal(maxout_grad(z, w, b), [-1.0, -1.0, 0.5, 0.5, 0.5, 2.0, 2.0])


def test_maxout_grad_matches_autograd_and_numerical_gradients():
    """For random pieces, does maxout_grad agree with autograd and with centered differences?"""
    rng = np.random.default_rng(13)
    for k in (2, 3, 5):
        w, b = tuple(rng.normal(size=k)), tuple(rng.normal(size=k))
        z = rng.normal(scale=3.0, size=12)

        def reference(v, w=w, b=b):
            return anp.max(anp.stack([wk * v + bk for wk, bk in zip(w, b)]), axis=0)

        want = autograd.elementwise_grad(reference)(z)
        np.testing.assert_allclose(maxout(z, w, b), reference(z), rtol=1e-15)
        np.testing.assert_allclose(maxout_grad(z, w, b), want, rtol=1e-15)
        numeric = numerical_gradient(
            lambda v, w=w, b=b: maxout(v, w, b), z.copy(), upstream=np.ones(12)
        )
        np.testing.assert_allclose(maxout_grad(z, w, b), numeric, rtol=1e-7)


@pytest.mark.parametrize("shape", [(), (4,), (2, 5)])
def test_maxout_preserves_shapes(shape):
    """Do maxout and maxout_grad return arrays of z's shape?"""
    z = np.random.default_rng(14).normal(size=shape)
    w, b = (-1.0, 0.5, 2.0), (0.0, 1.0, -2.0)
    assert np.shape(maxout(z, w, b)) == shape
    assert np.shape(maxout_grad(z, w, b)) == shape


@pytest.mark.parametrize(
    ("w", "b", "counts"),
    [((1.0, 0.1), (0.0, 0.0, 1.0), "2 slopes and 3 intercepts"), ((1.0,), (0.0,), "1 slopes")],
)
def test_maxout_rejects_mismatched_or_too_few_pieces(w, b, counts):
    """Does maxout refuse w and b of different lengths (or one piece), naming both counts?"""
    for fn in (maxout, maxout_grad):
        with pytest.raises(ValueError, match=counts):
            fn(np.zeros(3), w, b)


def test_maxout_grad_at_a_tie_follows_the_kink_convention():
    """At z = 0, where maxout's default pieces tie, is its derivative leaky ReLU's (0.1)?"""
    z = np.array([0.0])
    assert maxout_grad(z).tolist() == ACTIVATIONS["leaky_relu"].df(z).tolist()
    assert maxout_grad(z, (1.0, 0.0), (0.0, 0.0)).tolist() == ACTIVATIONS["relu"].df(z).tolist()


def test_relu_of_minus_infinity_is_zero():
    """Is ReLU(-inf) 0, as max(0, -inf) is, rather than nan?"""
    with np.errstate(invalid="ignore"):
        assert ACTIVATIONS["relu"].f(np.array([-np.inf])).tolist() == [0.0]


# -- lookup by name -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["nope", "ReLU", None, ["relu"]])
def test_unknown_name_raises_a_value_error_listing_the_names(bad):
    """Does activation(<unknown>) raise ValueError that names what it got and every valid name?"""
    with pytest.raises(ValueError) as info:
        activation(bad)
    msg = str(info.value)
    assert repr(bad) in msg
    for name in LECTURE_NAMES:
        assert name in msg
