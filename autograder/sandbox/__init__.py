"""Where a submission's code runs: the host's side (``host``), the sandbox (``isolation``), the
contract between them (``reply``), the watchdog, and the runner that lives inside (``inside/``,
run as a script there: it imports nothing of the grader)."""
