"""``python -m autograder`` is the ``backprop-kit`` command."""

import sys

from .cli import main

sys.exit(main())
