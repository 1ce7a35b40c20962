"""``backprop-kit demo``: the pipeline on a throw-away course (``walkthrough``), with sample
students, honest and hostile (``samples``); not used by the pipeline itself."""
