"""Interactive apps for the lecture (ipywidgets 8 + matplotlib).

- ``BackwardStepper``: a computational graph drawn as on the slides; step the forward and the
  backward pass gate by gate and read "local gradient x upstream gradient = result".
- ``BoundaryExplorer``: drag a logistic unit's weights (or the Aarhus lecture's three units)
  and watch the probability field and the boundary move.
- ``ActivationExplorer``: an activation, its derivative, where the gradient vanishes, and how
  much gradient survives n stacked layers.
- ``TrainingPlayground``: train a small net on a 2-D dataset with chainrule's layers, live.

Each app shows itself when it is the last line of a cell, and carries a plain PNG of its
figure as the fallback where widgets cannot run (GitHub, exported HTML). Every control can be
driven from Python too (set ``.value``, call ``.click()``), which is how the tests use them.
"""

from .activation_explorer import ActivationExplorer
from .boundary import BoundaryExplorer
from .playground import TrainingPlayground
from .stepper import BackwardStepper

__all__ = ["BackwardStepper", "BoundaryExplorer", "ActivationExplorer", "TrainingPlayground"]
