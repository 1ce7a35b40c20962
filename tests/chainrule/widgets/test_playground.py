"""Does the training playground train chainrule's MLP live, and survive a diverging run?"""

import numpy as np
import pytest

from chainrule import data
from chainrule.nets import MLP
from chainrule.widgets import TrainingPlayground
from chainrule.widgets.playground import DATASETS

from ._png import changed


def test_pressing_play_trains_xor_and_the_loss_falls():
    app = TrainingPlayground("xor")
    before = app.image.value
    for _ in range(30):
        app.play.value += 1  # what the play button does, once per interval
    assert len(app.losses) == 30 * app.steps_per_frame.value
    assert app.losses[-1] < app.losses[0] / 10
    assert app.accuracy >= 0.95
    assert f"step {len(app.losses)}" in app.status.value and "training accuracy" in app.status.value
    assert changed(before, app.image.value) > 0.01


def test_it_is_chainrules_mlp_trained_by_gradient_descent():
    app = TrainingPlayground("moons", hidden_layers=2, units=8, activation="tanh", noise=0.2)
    app.steps_per_frame.value = 4
    app.step()
    X, y = data.moons(n=200, noise=0.2, seed=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    ref = MLP([2, 8, 8, 2], activation="tanh", seed=0)
    losses = [ref.step(X, y, 0.3) for _ in range(4)]
    np.testing.assert_allclose(app.losses, losses, rtol=1e-12)
    for name, param in ref.params.items():
        np.testing.assert_allclose(app.net.params[name], param, rtol=1e-12)


def test_what_is_drawn_is_the_nets_prediction_and_the_loss_history():
    app = TrainingPlayground("spirals")
    for _ in range(3):
        app.step()
    assert app.field.shape == (60, 60, 3)
    np.testing.assert_allclose(app.field.sum(axis=2), 1.0)
    g = np.linspace(-2.6, 2.6, 60)
    corner = app.net.scores(np.array([[g[-1], g[0]]]))[0]  # right, bottom
    p = np.exp(corner - corner.max())
    np.testing.assert_allclose(app.field[0, -1], p / p.sum())
    assert list(app._loss_line.get_ydata()) == app.losses


def test_play_rewinding_to_zero_does_not_train():
    app = TrainingPlayground()
    app.play.value = 3
    n = len(app.losses)
    app.play.value = 0  # the play widget's stop button
    assert len(app.losses) == n


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_changing_the_data_or_the_net_starts_over(dataset):
    app = TrainingPlayground("moons" if dataset == "xor" else "xor")
    app.step()
    app.dataset.value = dataset
    assert app.losses == [] and app.error is None
    assert app.net.sizes == [2, 16, 16, app.classes]
    app.hidden_layers.value = 3
    app.units.value = 5
    assert app.net.sizes == [2, 5, 5, 5, app.classes]
    app.step()
    assert np.isfinite(app.losses).all()


def test_learning_rate_and_l2_apply_without_a_restart():
    app = TrainingPlayground()
    app.step()
    app.reg.value = 0.01
    assert app.net.reg == 0.01 and len(app.losses) == 10
    app.learning_rate.value = 1.0
    w_before = app.net.params["W1"].copy()
    _, grads = app.net.loss(app.X, app.y)
    app.steps_per_frame.value = 1
    app.step()
    np.testing.assert_allclose(app.net.params["W1"], w_before - 1.0 * grads["W1"])


def test_a_diverging_learning_rate_stops_with_a_message_and_reset_recovers():
    app = TrainingPlayground("xor", hidden_layers=4, units=64, learning_rate=30.0)
    app.play.playing = True
    for _ in range(10):
        app.play.value += 1
    assert "training diverged at step" in app.error and "learning rate 30" in app.error
    assert app.play.playing is False
    n = len(app.losses)
    app.step()  # stays stopped until reset
    assert len(app.losses) == n
    app.learning_rate.value = 0.1
    app.reset_button.click()
    assert app.error is None and app.losses == []
    app.step()
    assert np.isfinite(app.losses).all() and "Problem" not in app.status.value


def test_nan_weights_are_caught():
    app = TrainingPlayground()
    app.net.params["W2"][0, 0] = np.nan
    app.step()
    assert "training diverged at step 1" in app.error
    app.reset()
    assert app.error is None


def test_a_growing_loss_gets_a_warning_before_it_diverges():
    app = TrainingPlayground("spirals", activation="tanh", learning_rate=30.0)
    for _ in range(5):
        app.step()
    assert app.error is None
    assert "Warning" in app.status.value and "learning rate 30 is probably too large" in (
        app.status.value
    )


def test_an_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="dataset must be one of .* got 'mnist'"):
        TrainingPlayground("mnist")
