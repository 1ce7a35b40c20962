"""What every widget app shares: one matplotlib figure shown as a PNG, a status line, guards.

An app draws into its own ``matplotlib.figure.Figure`` (not pyplot's, so nothing is shown twice
inline) and puts the rendered PNG into an ``ipywidgets.Image``. Rendering a PNG needs no
front-end extension beyond ipywidgets itself, and the same PNG is the static fallback: an app's
display bundle carries it as ``image/png`` next to the live widget, so GitHub and exported HTML
show the figure where they cannot run widgets.
"""

import base64
import functools
import html
import io

import ipywidgets as w
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["App", "guarded"]


def guarded(method):
    """Run a control's callback so that an error shows in the app's status line, not a traceback.

    Callbacks of ipywidgets controls run outside any cell: a traceback there goes to the log
    console, where nobody looks. The app stays usable, and ``reset`` recovers.
    """

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # any failure becomes a message in the widget
            self.show_error(f"{type(exc).__name__}: {exc}")
            return None

    return run


class App:
    """Base class: ``figure`` (matplotlib), ``image`` (its PNG), ``status`` (messages), ``ui``.

    Subclasses build ``self.ui`` (an ipywidgets container holding ``self.image`` and
    ``self.status``) and call ``self.render()`` after drawing. ``renders`` counts the PNGs made.
    """

    description = "widget app"

    def __init__(self, figsize, dpi=80):
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        # at its own size (a VBox would stretch it to the full width, blurred), never wider
        # than the output area
        self.image = w.Image(
            format="png", layout=w.Layout(align_self="flex-start", max_width="100%")
        )
        self.image.add_class("chainrule-figure")
        self.status = w.HTML("")
        self.status.add_class("chainrule-status")
        self.error = None  # the message shown, while something is wrong
        self.renders = 0
        self.ui = None
        self.animated = []  # artists redrawn each time over a saved background
        self._background = None

    # -- drawing -----------------------------------------------------------------------------

    def animate(self, *artists):
        """Mark ``artists`` as the ones that change: later redraws paint only them (blitting).

        Mark an artist before the figure is first drawn, or call ``invalidate()``.
        """
        for artist in artists:
            artist.set_animated(True)
            self.animated.append(artist)

    def invalidate(self):
        """Something besides the animated artists changed: the next paint draws everything."""
        self._background = None

    def paint(self):
        """Draw the figure onto its canvas.

        Without animated artists, everything is drawn. With them, the rest of the figure is
        drawn once and saved; each later paint restores it and draws only the animated
        artists over it, which is what keeps slider moves fast.
        """
        canvas = self.figure.canvas
        if not self.animated:
            canvas.draw()
            return
        if self._background is None:
            canvas.draw()  # everything but the animated artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self.animated:
            if artist.figure is not None:  # skip artists removed since
                self.figure.draw_artist(artist)

    def png(self):
        """The figure as PNG bytes (compressed lightly: redraws must be fast)."""
        self.paint()
        rgba = np.asarray(self.figure.canvas.buffer_rgba())
        buf = io.BytesIO()
        PIL.Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()

    def render(self):
        """Put the current figure into the image widget."""
        self.image.value = self.png()
        self.renders += 1

    # -- messages ----------------------------------------------------------------------------

    def show_error(self, message):
        """Show ``message`` in the status line (in red) and keep it in ``self.error``."""
        self.error = message
        text = html.escape(message, quote=False)
        self.status.value = f'<span style="color:#c62828"><b>Problem:</b> {text}</span>'

    def show_warning(self, message):
        """Show ``message`` in the status line (in orange); the app carries on."""
        self.error = None
        text = html.escape(message, quote=False)
        self.status.value = f'<span style="color:#b26a00"><b>Warning:</b> {text}</span>'

    def show_info(self, message):
        """Show ``message`` in the status line and clear any error."""
        self.error = None
        self.status.value = html.escape(message, quote=False)

    # -- display -----------------------------------------------------------------------------

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The live widget where widgets display, and the figure as PNG everywhere else."""
        data = {
            "text/plain": f"<{type(self).__name__}: {self.description}>",
            "image/png": base64.b64encode(self.png()).decode("ascii"),
        }
        if self.ui is not None:
            widget = self.ui._repr_mimebundle_(include=include, exclude=exclude)
            if isinstance(widget, tuple):
                widget = widget[0]
            data.update({k: v for k, v in (widget or {}).items() if k != "text/plain"})
        return data

    def static(self):
        """The current state as a plain matplotlib figure (for a report or ``savefig``)."""
        return self.figure
