"""Grading: a class of submissions in sandboxes (``grade``), a notebook's score from the
runner's replies (``scoring``), and a student's own run of the visible tests (``visible``)."""
