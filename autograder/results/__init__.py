"""Results out: the records of a grading run (``records``), nbgrader's gradebook, the
feedback pages and the class report."""
