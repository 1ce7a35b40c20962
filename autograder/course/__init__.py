"""The course: its folders and configuration (``layout``), nbgrader's configuration, the tasks
of a notebook, an assignment as the grader reads it, and releasing student notebooks."""
