"""Does the training playground train chainrule's MLP live, and survive a diverging run?"""

import asyncio

import numpy as np
import pytest

from chainrule import data
from chainrule.nets import MLP
from chainrule.widgets import TrainingPlayground
from chainrule.widgets.playground import DATASETS

from ._png import changed


def test_thirty_frames_train_xor_and_the_loss_falls():
    app = TrainingPlayground("xor")
    before = app.image.value
    for _ in range(30):
        app.step_button.click()
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


def test_play_trains_on_the_event_loop_until_pause():
    app = TrainingPlayground(fps=1000)
    seen = {}

    async def lecture():
        app.play.value = True  # the play button: starts frames on the running loop
        assert app.play.description == "pause"
        while len(app.losses) < 50:
            await asyncio.sleep(0.01)  # the kernel is free between frames
        app.play.value = False  # pause
        seen["at pause"] = len(app.losses)
        await asyncio.sleep(0.2)
        seen["later"] = len(app.losses)
        return await app._task

    frames = asyncio.run(lecture())
    assert seen["later"] == seen["at pause"] >= 50
    assert frames * app.steps_per_frame.value == len(app.losses)
    assert app.play.description == "play"


def test_run_gives_a_number_of_frames_and_pressing_play_twice_runs_one_loop():
    app = TrainingPlayground(fps=1000)

    async def twice():
        task = asyncio.ensure_future(app.run(frames=6))
        await asyncio.sleep(0)
        app.play.value = False
        app.play.value = True  # pressed again while the loop is still going
        return await task

    assert asyncio.run(twice()) == 6
    assert len(app.losses) == 6 * app.steps_per_frame.value
    assert app.play.value is False


def test_play_outside_an_event_loop_does_nothing_until_driven():
    app = TrainingPlayground()
    app.play.value = True  # plain Python: no loop to run on
    assert app.losses == []
    app.play.value = False


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
    frames = asyncio.run(app.run(frames=10))
    assert frames < 10  # stopped early
    assert "training diverged at step" in app.error and "learning rate 30" in app.error
    assert app.play.value is False
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


def test_after_divergence_the_figure_shows_the_step_it_happened_at():
    app = TrainingPlayground("xor", hidden_layers=4, units=64, learning_rate=30.0)
    asyncio.run(app.run(frames=10))
    assert app.ax_boundary.get_title().startswith(f"step {len(app.losses)}:")
    assert len(app._loss_line.get_xdata()) == len(app.losses)
    assert app.ax_loss.get_yscale() == "log"  # a spike of 1e10 leaves the rest readable


def test_constructor_values_are_checked_and_kept_not_clamped():
    app = TrainingPlayground(learning_rate=0.05, reg=0.5, units=100, hidden_layers=6, noise=0.8)
    assert app.learning_rate.value == 0.05 and app.reg.value == 0.5
    assert app.net.sizes == [2] + [100] * 6 + [2]
    assert app.noise.value == 0.8 and "0.05" in app.ax_loss.get_title()
    for kwargs, message in [
        ({"activation": "softplus"}, "activation must be one of .* got 'softplus'"),
        ({"learning_rate": 0}, "learning_rate must be a number > 0, got 0"),
        ({"learning_rate": -1}, "learning_rate must be a number > 0, got -1"),
        ({"reg": -1}, "reg must be a number >= 0, got -1"),
        ({"fps": 0}, "fps must be a number > 0, got 0"),
        ({"units": 0}, "units must be a whole number >= 1, got 0"),
        ({"resolution": 0}, "resolution must be a whole number >= 2, got 0"),
        ({"seed": "a"}, "seed must be a whole number >= 0, got 'a'"),
        ({"noise": float("nan")}, "noise must be a number >= 0, got nan"),
    ]:
        with pytest.raises(ValueError, match=message):
            TrainingPlayground(**kwargs)
