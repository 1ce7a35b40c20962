"""Does every app display live where widgets run, as a PNG elsewhere, and turn errors into words?"""

import base64

import ipywidgets as w
import pytest
from matplotlib.figure import Figure

from chainrule.widgets import (
    ActivationExplorer,
    BackwardStepper,
    BoundaryExplorer,
    TrainingPlayground,
)
from chainrule.widgets._app import App, guarded

from ._png import pixels

APPS = [BackwardStepper, BoundaryExplorer, ActivationExplorer, TrainingPlayground]


@pytest.mark.parametrize("make", APPS, ids=lambda c: c.__name__)
def test_display_bundle_has_the_live_widget_and_a_png_fallback(make):
    app = make()
    bundle = app._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == app.ui.model_id
    fallback = pixels(base64.b64decode(bundle["image/png"]))
    assert fallback.shape[0] > 100 and fallback.std() > 0.05  # a picture, not a blank
    assert make.__name__ in bundle["text/plain"]
    assert isinstance(app.static(), Figure)
    assert app.image in _descendants(app.ui) and app.status in _descendants(app.ui)
    assert app.error is None, app.error


@pytest.mark.parametrize("make", APPS, ids=lambda c: c.__name__)
def test_the_image_widget_shows_the_figure(make):
    app = make()
    assert app.image.format == "png"
    assert "chainrule-figure" in app.image._dom_classes
    assert pixels(app.image.value).shape == pixels(app.png()).shape


def test_a_failing_callback_shows_a_message_and_the_app_goes_on():
    class Broken(App):
        def __init__(self):
            super().__init__(figsize=(2, 2))
            self.ui = w.VBox([self.image, self.status])
            self.calls = 0

        @guarded
        def act(self, x):
            self.calls += 1
            return 1.0 / x

    app = Broken()
    assert app.act(0) is None
    assert app.error == "ZeroDivisionError: float division by zero"
    assert "Problem:" in app.status.value and "ZeroDivisionError" in app.status.value
    assert app.act(4) == 0.25 and app.calls == 2
    app.show_info("fine <again>")
    assert app.error is None and app.status.value == "fine &lt;again&gt;"


def _descendants(widget):
    out = [widget]
    for child in getattr(widget, "children", ()):
        out.extend(_descendants(child))
    return out
