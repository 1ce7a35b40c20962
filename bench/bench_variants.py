"""What a value task's check costs with per-student numbers, next to the checks it replaced.

A value task's test cell calls ``chainrule.variants.check_answers``: it draws the student's
numbers (SHA-256, no random state) and compares the answers. A wrong answer is also compared
with the slide's and with every other student's numbers on the roster the grader passes: the
cost that grows with the class. Peers, timed interleaved in one run:

- ``expect_close``: the slide's fixed answers checked as before variants (the baseline);
- ``check_answers`` on right answers (what every honest notebook pays);
- ``check_answers`` on wrong answers with a roster of 0, 100, 1,000 and 10,000 students.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/bench_variants.py     (about 20 seconds)
"""

import contextlib
import io
import sys
from pathlib import Path

from _common import best_times, ratio_line

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chainrule import variants  # noqa: E402
from chainrule.testcells import expect_close  # noqa: E402
from chainrule.value_tasks import spec  # noqa: E402

TASK = "neuron-backward"  # the largest value task: twelve answers


def _old_check():
    for name, value in SLIDE.items():
        expect_close(name, value, value, atol=0.006)


def _check(answers):
    def run():
        try:
            variants.check_answers(TASK, **answers)
        except AssertionError:
            pass

    return run


def main():
    with contextlib.redirect_stdout(io.StringIO()):
        variants.StudentNumbers("s0000001")
    right = spec(TASK).answers(variants.variant("s0000001", TASK))
    wrong = dict(right, df_dx1=right["df_dx1"] + 1.0)  # fits nobody's numbers: every id tried
    fns = {"expect_close, the slide's answers": _old_check, "check_answers, right": _check(right)}
    for size in (0, 100, 1_000, 10_000):
        roster = tuple(f"s{n:07d}" for n in range(2, size + 2))
        fns[f"check_answers, wrong, roster {size:,}"] = _pinned(roster, _check(wrong))
    best = best_times(fns, repeat=5)
    base = best["expect_close, the slide's answers"]
    print(f"{TASK}: one test cell's check (12 answers), best of 5, interleaved")
    for name, seconds in best.items():
        print(ratio_line(name, seconds, base))


def _pinned(roster, run):
    def pinned():
        variants.as_collected("s0000001", roster)
        run()

    return pinned


SLIDE = spec(TASK).answers(variants.variant("", TASK))

if __name__ == "__main__":
    main()
