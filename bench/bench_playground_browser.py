"""The training playground as a lecturer sees it: frames per second shown in JupyterLab.

Starts JupyterLab and headless Chromium exactly as the browser test does (tests/browser: Debian's
chromium and chromium-driver, Selenium, nothing downloaded), opens a notebook showing
``TrainingPlayground('spirals')`` (2-16-16-3, 200 points, 10 steps per frame), presses play, and
reads the step count in the app's status line at the start and the end of a 5-second window.
The browser, the server and the kernel share the machine's cores, as on a lecturer's laptop.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/bench_playground_browser.py
"""

import sys
import time
from pathlib import Path

import _common  # noqa: F401 (single-threaded BLAS, set before NumPy loads)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tempfile  # noqa: E402

from tests.browser import test_lab_widgets as lab_test  # noqa: E402

WINDOW = 5.0  # seconds


def main():
    try:
        lab_test.browser_paths()
    except BaseException as exc:  # pytest.skip raises a BaseException subclass
        print(f"skipped: {exc}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        lab = lab_test.Lab(Path(tmp))
        lab.start()
        driver = None
        try:
            driver = lab_test.start_chromium(lab)
            session = lab_test.Session(lab, driver, Path(tmp))
            session.open_and_run(lab_test.PLAYGROUND_CELL, "playground.ipynb")
            session.wait("the figure", session.figure_src, lab_test.START_TIMEOUT)
            status = driver.find_element("css selector", lab_test.STATUS)
            button = driver.find_element("css selector", lab_test.PLAY)
            button.click()
            session.wait("training to start", lambda: lab_test.training_step(status.text), 60)
            time.sleep(1.0)  # past the first frames
            first, t0 = lab_test.training_step(status.text), time.monotonic()
            time.sleep(WINDOW)
            last, t1 = lab_test.training_step(status.text), time.monotonic()
            button.click()
            frames = (last - first) / 10
            print(
                f"TrainingPlayground('spirals') in JupyterLab + headless Chromium: {frames:.0f} "
                f"frames in {t1 - t0:.2f} s = {frames / (t1 - t0):.1f} frames/s shown "
                f"(play is capped at 30 frames/s)"
            )
        finally:
            if driver is not None:
                driver.quit()
            lab.stop()


if __name__ == "__main__":
    main()
