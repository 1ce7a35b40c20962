"""The widgets in a real browser: JupyterLab in headless Chromium, a slider moved from the keyboard.

Needs Debian's ``chromium`` and ``chromium-driver`` on PATH and Selenium (the ``test`` extra);
without them the test is skipped and says why (``make test`` prints the reason, pytest runs with
``-ra``). ``.ci/run`` installs Chromium first, so CI always runs it.

Nothing is downloaded at run time: Selenium is handed chromedriver's path (so Selenium Manager
never runs) and Chromium's binary, Chromium starts with its background networking off, and
JupyterLab runs from this interpreter on 127.0.0.1 with a random token, news and update checks
off, and its config, data, runtime and IPython directories in a temporary directory. Kernel specs
still come from ``sys.prefix/share/jupyter``, which stays on Jupyter's data path, so the notebook
gets this venv's ``python3`` kernel.

The first test opens a notebook whose one cell displays ``BoundaryExplorer()``, runs it,
presses ArrowRight on the ``b`` slider's handle, and checks that the slider's readout went up,
that the figure (``img.chainrule-figure``) was redrawn, and that screenshots of the figure taken
before and after differ. The second presses play in ``TrainingPlayground`` and checks that
training steps arrive and the figure is redrawn, then that pause stops them. On failure the
message names a page screenshot and ends with the server log.
"""

import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat
import numpy as np
import PIL.Image
import pytest

CELL = "from chainrule.widgets import BoundaryExplorer\napp = BoundaryExplorer()\napp"
NOTEBOOK = "widget.ipynb"
FIGURE = "img.chainrule-figure"
HANDLE = ".chainrule-slider-b .noUi-handle"
READOUT = ".chainrule-slider-b .widget-readout"
STATUS = ".chainrule-status"  # the apps' status line, where a failed callback says "Problem"
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
KEY_PRESSES = 10  # ArrowRight presses on the b slider (one step each)
START_TIMEOUT = 90  # seconds for the server, the page, the kernel and the first figure (each)
REDRAW_TIMEOUT = 60  # seconds for the redraw after the key presses
SETTLED = 0.75  # seconds the figure must stay unchanged before the second screenshot
MIN_CHANGED = 0.002  # fraction of screenshot pixels that must change (a moved line is ~1%)

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-proxy-server",
    "--disable-dev-shm-usage",
    "--password-store=basic",
    "--use-mock-keychain",
    "--force-device-scale-factor=1",
    "--window-size=1400,1000",
]


def browser_paths():
    """(chromium, chromedriver) from PATH; skips the test when either or Selenium is missing."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    missing = [
        name for name, path in [("chromium", chromium), ("chromedriver", driver)] if not path
    ]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not found on PATH (apt-get install chromium "
            "chromium-driver); the browser test of the widgets is skipped"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip(
            "Selenium is not installed (pip install -e '.[test]'); "
            "the browser test of the widgets is skipped"
        )
    return chromium, driver


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=60):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return f"({path}: {e})"
    return "\n".join(text.splitlines()[-lines:])


class Lab:
    """A JupyterLab server of our own, started by ``start()`` and stopped by ``stop()``."""

    def __init__(self, base):
        self.base = base
        self.root = base / "notebooks"
        self.log = base / "jupyter-lab.log"
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        self.root.mkdir()
        env = dict(os.environ)
        for var, sub in [
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("IPYTHONDIR", "ipython"),
        ]:
            env[var] = str(self.base / sub)
        env.pop("JUPYTER_CONFIG_PATH", None)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        # Lab's own settings (user settings live under JUPYTER_CONFIG_DIR/lab/user-settings):
        # no news, no update checks, no toast asking about either.
        settings = self.base / "config/lab/user-settings/@jupyterlab/apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",  # harmless unless root; CI containers often are
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Straight to 127.0.0.1, whatever http_proxy says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(
            f"{self.url}/api/status", headers={"Authorization": f"token {self.token}"}
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"jupyter lab exited with status {self.proc.returncode} before it answered; "
                    f"its log ({self.log}) ends:\n{tail(self.log)}"
                )
            try:
                with opener.open(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jupyter lab did not answer on {self.url}/api/status within "
                    f"{START_TIMEOUT} s; its log ({self.log}) ends:\n{tail(self.log)}"
                )
            time.sleep(0.25)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the server and kernels
            self.proc.wait(timeout=5)

    def write_notebook(self, source, name=NOTEBOOK):
        nb = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_code_cell(source)],
            metadata={
                "kernelspec": {
                    "name": "python3",
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                },
                "language_info": {"name": "python"},
            },
        )
        nbformat.write(nb, self.root / name)
        return f"{self.url}/lab/tree/{name}?token={self.token}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    browser_paths()  # skip before starting anything
    server = Lab(tmp_path_factory.mktemp("lab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def start_chromium(lab):
    """Headless Chromium under Selenium, given Debian's binaries: nothing is downloaded.

    Skips (as ``browser_paths``) without them. The caller quits the driver.
    """
    chromium, chromedriver = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path means Selenium Manager never runs; these keep it offline if it did.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_OFFLINE", "true")
        mp.setenv("SE_AVOID_STATS", "true")
        log = str(lab.base / "chromedriver.log")
        service = Service(executable_path=chromedriver, log_output=log)
        driver = webdriver.Chrome(service=service, options=options)
    # Headless, the page may not count as focused (JupyterLab then has no current widget and
    # keys go nowhere); have Chromium treat it as focused, as a user's is.
    driver.execute_cdp_cmd("Emulation.setFocusEmulationEnabled", {"enabled": True})
    driver.set_script_timeout(30)
    return driver


@pytest.fixture(scope="module")
def browser(lab):
    driver = start_chromium(lab)
    try:
        yield driver
    finally:
        driver.quit()


def readout_value(text):
    """A slider readout as a float (d3-format writes minus as U+2212); None if it is not one."""
    try:
        return float(text.strip().replace("\u2212", "-"))
    except ValueError:
        return None


# Scrolls the element's top into view and returns the part of it that no ancestor clips,
# [left, top, right, bottom] in CSS pixels (one per device pixel: the scale factor is forced to 1).
VISIBLE_BOX = """
const el = document.querySelector(arguments[0]);
if (!el) return null;
el.scrollIntoView({block: 'start', inline: 'nearest'});
const r = el.getBoundingClientRect();
let [left, top, right, bottom] = [r.left, r.top, r.right, r.bottom];
// <body>'s overflow applies to the viewport (clipped below), not to the body's own box
for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
  const s = getComputedStyle(p);
  if (!/auto|scroll|hidden|clip/.test(s.overflow + s.overflowX + s.overflowY)) continue;
  const q = p.getBoundingClientRect();
  const x = q.left + p.clientLeft, y = q.top + p.clientTop;
  left = Math.max(left, x); top = Math.max(top, y);
  right = Math.min(right, x + p.clientWidth); bottom = Math.min(bottom, y + p.clientHeight);
}
right = Math.min(right, window.innerWidth); bottom = Math.min(bottom, window.innerHeight);
return [Math.ceil(Math.max(left, 0)), Math.ceil(Math.max(top, 0)),
        Math.floor(right), Math.floor(bottom)];
"""


class Session:
    """The browser and server for one test, with waits that fail with everything needed to debug."""

    def __init__(self, lab, driver, artifacts):
        self.lab, self.driver, self.artifacts = lab, driver, artifacts

    def fail(self, message):
        lines = [message]
        try:
            page = self.artifacts / "page.png"
            self.driver.save_screenshot(str(page))
            lines.append(f"page screenshot: {page}")
        except Exception as e:  # the browser itself may be what broke
            lines.append(f"(no page screenshot: {e})")
        try:
            logs = [
                f"  {e['level']} {e['message']}"
                for e in self.driver.get_log("browser")
                if e["level"] in ("SEVERE", "WARNING")
            ]
            if logs:
                lines.append("browser console (warnings and errors):\n" + "\n".join(logs[-20:]))
        except Exception:
            pass
        lines.append(f"jupyter lab log ({self.lab.log}) ends:\n{tail(self.lab.log)}")
        pytest.fail("\n".join(lines), pytrace=False)

    @contextmanager
    def diagnostics(self):
        """Turns Selenium's own errors into failures that carry the diagnostics."""
        from selenium.common.exceptions import WebDriverException

        try:
            yield
        except WebDriverException as e:
            self.fail(f"the browser failed: {type(e).__name__}: {e.msg}")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, what, check, timeout, interval=0.1):
        """Polls ``check()`` until it returns something truthy; fails naming ``what`` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            self.fail_on_traceback(f"while waiting for {what}")
            if time.monotonic() > deadline:
                self.fail(f"timed out after {timeout} s waiting for {what}")
            time.sleep(interval)

    def fail_on_traceback(self, when):
        """Fails if the cell printed a traceback or the app's status line reports a problem."""
        errors = [e.text for e in self.driver.find_elements("css selector", STDERR)]
        errors = [t for t in errors if "Traceback" in t or "Error" in t]
        status = [e.text for e in self.driver.find_elements("css selector", STATUS)]
        errors += [t for t in status if "Problem" in t]
        if errors:
            self.fail(f"the cell printed an error {when}:\n" + "\n".join(errors))

    def open_and_run(self, source, name):
        """Opens a notebook holding one cell of ``source`` and runs it once its kernel is idle."""
        self.driver.get(self.lab.write_notebook(source, name))

        def notebook_ready():
            self.accept_dialog()
            return self.js(
                "const app = window.jupyterapp;"
                "if (!app) return false;"
                "const panel = Array.from(app.shell.widgets('main'))"
                "  .find(w => w.context && w.context.path === arguments[0]);"
                "if (!panel || !panel.context.isReady) return false;"
                "if (app.shell.currentWidget !== panel) app.shell.activateById(panel.id);"
                "const session = panel.sessionContext.session;"
                "const kernel = session && session.kernel;"
                "return app.shell.currentWidget === panel && !!kernel && kernel.status === 'idle'"
                "  && kernel.connectionStatus === 'connected';",
                name,
            )

        self.wait(
            f"JupyterLab to open {name} with an idle python3 kernel", notebook_ready, START_TIMEOUT
        )
        self.js("window.jupyterapp.commands.execute('notebook:run-all-cells');")

    def visible(self, selector, what):
        """The first displayed element matching ``selector``, once there is one."""
        return self.wait(
            f"{what} ({selector})",
            lambda: [
                e for e in self.driver.find_elements("css selector", selector) if e.is_displayed()
            ],
            REDRAW_TIMEOUT,
        )[0]

    def accept_dialog(self):
        """Accepts a dialog (a kernel choice, say) if one is up; the notebook names python3."""
        for button in self.driver.find_elements("css selector", ".jp-Dialog .jp-mod-accept"):
            if button.is_displayed():
                button.click()

    def figure_src(self):
        """The figure's src once the image has loaded, else None."""
        return self.js(
            "const img = document.querySelector(arguments[0]);"
            "return img && img.getAttribute('src') && img.complete && img.naturalWidth > 0"
            "  && img.getBoundingClientRect().width > 0 ? img.getAttribute('src') : null;",
            FIGURE,
        )

    def screenshot(self, name):
        """The figure as the user sees it: a screenshot cropped to its visible part, as pixels.

        Not ``element.screenshot_as_png``: the figure sits in JupyterLab's scrolled notebook and
        may be taller than it, and an element screenshot then takes in whatever covers the rest
        (the status bar) and depends on where the scroll stopped. Here the figure's top is
        scrolled to the top and the crop is the part no scrolled ancestor clips away.
        """
        box = self.js(VISIBLE_BOX, FIGURE)
        if not box or box[2] - box[0] < 50 or box[3] - box[1] < 50:
            self.fail(f"the figure is not visible enough to compare (visible box {box})")
        page = PIL.Image.open(io.BytesIO(self.driver.get_screenshot_as_png())).convert("RGB")
        crop = page.crop(tuple(box))
        crop.save(self.artifacts / name)
        return np.asarray(crop, dtype=float) / 255


def test_moving_the_b_slider_redraws_the_figure(lab, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    s = Session(lab, browser, tmp_path)
    with s.diagnostics():
        s.open_and_run(CELL, NOTEBOOK)
        src = s.wait(f"the figure ({FIGURE}) to be shown", s.figure_src, START_TIMEOUT)
        handle = s.visible(HANDLE, "the b slider's handle")
        readout = browser.find_element("css selector", READOUT)
        start = readout.text
        if readout_value(start) != -3:
            s.fail(f"the b slider should start at -3, its readout says {start!r}")

        before = s.screenshot("before.png")
        if not np.array_equal(before, s.screenshot("before-again.png")):
            s.fail("two screenshots of the unchanged figure differ; the comparison means nothing")

        # As a user would: click the handle, then step it with the keyboard.
        s.js("arguments[0].scrollIntoView({block: 'center'});", handle)
        ActionChains(browser).click(handle).perform()
        ActionChains(browser).send_keys(*[Keys.ARROW_RIGHT] * KEY_PRESSES).perform()

        def b_went_up():
            value = readout_value(readout.text)
            return value is not None and value > -3

        s.wait(
            f"the b readout to go up from {start} after {KEY_PRESSES} ArrowRight presses",
            b_went_up,
            REDRAW_TIMEOUT,
        )

        def redrawn_and_settled():
            now = s.figure_src()
            if not now or now == src:
                return False
            time.sleep(SETTLED)
            return s.figure_src() == now

        s.wait(
            "the figure to be redrawn after the slider moved", redrawn_and_settled, REDRAW_TIMEOUT
        )
        after = s.screenshot("after.png")
        end = readout.text

        if before.shape != after.shape:
            changed = 1.0  # a figure of another size has certainly changed
        else:
            changed = float(np.mean(np.abs(before - after).max(axis=-1) > 0.1))
        if changed < MIN_CHANGED:
            s.fail(
                f"moving b from {start} to {end} changed {changed:.3%} of the figure's pixels "
                f"(want at least {MIN_CHANGED:.1%}); screenshots: {tmp_path / 'before.png'}, "
                f"{tmp_path / 'after.png'}"
            )
        s.fail_on_traceback("after the slider moved")


PLAYGROUND_CELL = "from chainrule.widgets import TrainingPlayground\nTrainingPlayground('spirals')"
PLAY = ".chainrule-play"


def training_step(text):
    """The step count from the playground's status line ("step 120 · loss ..."), else None."""
    words = text.split()
    return int(words[1]) if len(words) > 1 and words[0] == "step" else None


def test_play_trains_live_in_the_kernel_and_pause_stops_it(lab, browser, tmp_path):
    s = Session(lab, browser, tmp_path)
    with s.diagnostics():
        s.open_and_run(PLAYGROUND_CELL, "playground.ipynb")
        src = s.wait(f"the figure ({FIGURE}) to be shown", s.figure_src, START_TIMEOUT)
        button = s.visible(PLAY, "the play button")
        status = browser.find_element("css selector", STATUS)
        s.js("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        s.wait(
            "100 training steps to show in the status line after play",
            lambda: (training_step(status.text) or 0) >= 100,
            REDRAW_TIMEOUT,
        )
        if s.figure_src() == src:
            s.fail("the playground trained but its figure was not redrawn")
        button.click()  # pause
        time.sleep(1.0)  # frames already sent may still land
        paused = training_step(status.text)
        time.sleep(1.5)
        if training_step(status.text) != paused:
            s.fail(f"training went on after pause: step {paused}, then {status.text!r}")
        s.fail_on_traceback("after play and pause")
