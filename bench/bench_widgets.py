"""Widget redraw times: a slider move in the boundary explorer, a frame of the playground.

The issue's bars, on this 2-core CPU: a slider move redraws the decision boundary on a 200 x 200
grid in <= 100 ms; the training playground runs >= 20 frames per second for a 2-16-16-2 net on
200 points. Each is timed next to peers in one interleaved run:

- boundary explorer, slider move: ``BoundaryExplorer`` with its sliders set from Python (the
  callback recomputes the field, redraws and encodes the PNG), against the same picture made
  the usual notebook way, ``plot_decision_boundary`` (contourf) in a fresh pyplot figure saved as
  PNG, as an ``interact``-decorated function would.
- playground frame: ``TrainingPlayground.step()`` (10 gradient steps, blitted redraw, PNG),
  against the same frame with a full redraw of the figure, and against the 10 training steps
  alone (what drawing costs on top).
- stepper and activation explorer: one button press / one change, for the record.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/bench_widgets.py
"""

import io
import itertools

import matplotlib
from _common import best_times, ratio_line

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from chainrule.activations import ACTIVATIONS  # noqa: E402
from chainrule.viz import plot_decision_boundary  # noqa: E402
from chainrule.widgets import (  # noqa: E402
    ActivationExplorer,
    BackwardStepper,
    BoundaryExplorer,
    TrainingPlayground,
)

sigmoid = ACTIVATIONS["sigmoid"].f


def boundary_contenders():
    app = BoundaryExplorer()
    values = itertools.cycle(np.linspace(-4.0, -2.0, 21))

    def widget():
        app.sliders["b"].value = next(values)

    def pyplot_contourf():
        b = next(values)
        fig, ax = plt.subplots(figsize=(4.6, 4.4), dpi=80)
        plot_decision_boundary(
            lambda P: sigmoid(P @ np.array([1.0, 1.0]) + b), ax=ax, extent=(-6, 6, -6, 6)
        )
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)

    return {"BoundaryExplorer slider move": widget, "pyplot + contourf + savefig": pyplot_contourf}


def playground_contenders():
    app = TrainingPlayground("xor", hidden_layers=2, units=16)  # 2-16-16-2 on 200 points
    full = TrainingPlayground("xor", hidden_layers=2, units=16)
    for artist in full.animated:
        artist.set_animated(False)  # part of the figure again, so a full draw shows them
    full.animated = []  # no blitting: every paint draws everything
    bare = TrainingPlayground("xor", hidden_layers=2, units=16)

    def train_only():
        for _ in range(bare.steps_per_frame.value):
            bare.net.step(bare.X, bare.y, 0.3)

    return {
        "TrainingPlayground frame (blitted)": app.step,
        "frame with a full redraw": full.step,
        "10 training steps, no drawing": train_only,
    }


def main():
    print("Boundary explorer: one slider move, 200 x 200 grid (budget 100 ms)")
    times = best_times(boundary_contenders(), repeat=5)
    base = times["BoundaryExplorer slider move"]
    for name, t in times.items():
        print(ratio_line(name, t, base))
    print()
    print("Training playground: one frame = 10 steps of a 2-16-16-2 net on 200 points + redraw")
    print("(budget 50 ms, i.e. 20 frames per second)")
    times = best_times(playground_contenders(), repeat=5)
    base = times["TrainingPlayground frame (blitted)"]
    for name, t in times.items():
        print(ratio_line(name, t, base) + f"   {1 / t:7.1f} frames/s")
    print()
    print("Other apps, one interaction each")
    stepper = BackwardStepper()
    positions = itertools.cycle(range(stepper.end + 1))
    explorer = ActivationExplorer()
    depths = itertools.cycle(range(5, 16))
    times = best_times(
        {
            "BackwardStepper step (sigmoid neuron)": lambda: stepper.go(next(positions)),
            "ActivationExplorer depth change": lambda: setattr(
                explorer.layers, "value", next(depths)
            ),
        },
        repeat=5,
    )
    for name, t in times.items():
        print(ratio_line(name, t, times["BackwardStepper step (sigmoid neuron)"]))


if __name__ == "__main__":
    main()
