"""A course on JupyterHub, end to end: do students fetch and submit in the Assignments tab, does
the instructor collect from the exchange, grade and release feedback, does a student see their
score in JupyterLab, and does the formgrader show the kit's grades?

Real components on 127.0.0.1 only: JupyterHub (this interpreter's) with
``deploy/jupyterhub/jupyterhub_config.py``, configurable-http-proxy (npm), each user's server
running as that Unix user from the users' environment in /opt, and headless Chromium through
Selenium (as tests/browser does: Debian's chromium and chromedriver, nothing downloaded). Root
only; skipped otherwise, or without Chromium, saying why.

The first student fills in every answer (the solution's), the second one answer only; both
press Validate (it passes the first notebook and fails the second) and submit in the browser.
``backprop-kit collect --exchange``, ``grade`` and ``feedback --release`` run as the
instructor. The first student then fetches the feedback in the Assignments tab and the page
shows 10 / 10 (and the formgrader is not there for them); the instructor's formgrader lists
both students with their scores.
"""

import json
import time

import nbformat
import pytest

from autograder.demo.samples import solved
from tests.browser.test_lab_widgets import CHROMIUM_FLAGS, browser_paths
from tests.hub._site import ASSIGNMENT, Hub, require_hub, require_root, site, tail

WAIT = 60  # seconds for a login, a server to start, a button to appear
NOTEBOOK = f"{ASSIGNMENT}/graphs.ipynb"


@pytest.fixture(scope="module")
def course_hub():
    require_root()
    proxy = require_hub()
    browser_paths()
    with site(students=("s1", "s2")) as s:
        hub = Hub(s, proxy)
        try:
            yield hub.start()
        finally:
            hub.stop()


@pytest.fixture(scope="module")
def browser(course_hub):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    d = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    d.set_script_timeout(WAIT)
    try:
        yield d
    finally:
        d.quit()


def answers(site, only=None):
    """``{cell index: source}`` of the solution's answers in the released notebook."""
    release = nbformat.read(site.course / "notebooks" / NOTEBOOK, as_version=4)
    source = nbformat.read(site.course / "solutions" / NOTEBOOK, as_version=4)
    done = solved(release, source)
    changed = {i: c.source for i, c in enumerate(done.cells) if c.source != release.cells[i].source}
    return dict(list(changed.items())[:only]) if only else changed


class Lab:
    """One user's JupyterLab in the shared browser, driven through its pages and commands."""

    def __init__(self, hub, browser, user):
        self.hub, self.d, self.user = hub, browser, user

    def fail(self, what):
        shot = self.hub.site.base / f"{self.user}-{int(time.time())}.png"
        self.d.save_screenshot(str(shot))
        text = self.d.find_element("tag name", "body").text[-2000:]
        pytest.fail(f"{what} ({self.user}); page text:\n{text}\nhub log:\n{tail(self.hub.log)}")

    def wait(self, what, check, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got = check()
            except Exception:  # the page is still loading
                got = None
            if got:
                return got
            time.sleep(0.3)
        self.fail(f"timed out waiting for {what}")

    def login(self):
        d = self.d
        d.delete_all_cookies()
        d.get(f"{self.hub.url}/hub/logout")
        d.get(f"{self.hub.url}/hub/login")
        self.wait("the login form", lambda: d.find_element("id", "username_input"))
        d.find_element("id", "username_input").send_keys(self.user)
        d.find_element("id", "password_input").send_keys(self.hub.password)
        d.find_element("id", "login_submit").click()
        self.wait(
            "JupyterLab",
            lambda: d.execute_script("return !!(window.jupyterapp && window.jupyterapp.shell)"),
            timeout=90,
        )
        # the saved layout (a notebook left open) is put back first: then nothing it restores
        # can cover the tab this test opens next
        restored = "const done = arguments[0]; window.jupyterapp.restored.then(() => done('ok'));"
        if d.execute_async_script(restored) != "ok":
            self.fail("JupyterLab did not restore its layout")
        return self

    def command(self, name, args=None):
        """Run a JupyterLab command once its plugin has registered it."""
        has = "return window.jupyterapp.commands.hasCommand(arguments[0])"
        self.wait(f"the command {name}", lambda: self.d.execute_script(has, name))
        run = """
            const [name, args, done] = arguments;
            window.jupyterapp.commands.execute(name, args).then(
                () => done('ok'), e => done('error: ' + e));
        """
        got = self.d.execute_async_script(run, name, args or {})
        if got != "ok":
            self.fail(f"{name}: {got}")

    def button(self, panel, label):
        """The visible button ``label`` in the assignment list's ``panel`` (an element id)."""
        xpath = f"//*[@id='{panel}']//button[normalize-space()='{label}']"
        return self.wait(f"the {label!r} button in #{panel}", lambda: self._enabled(xpath))

    def _enabled(self, xpath):
        found = [b for b in self.d.find_elements("xpath", xpath) if b.is_displayed()]
        return found[0] if found and found[0].is_enabled() else None

    def assignments(self):
        self.command("nbgrader:open-assignment-list")
        self.wait(
            "the Assignments tab in front",
            lambda: self.d.find_element("id", "assignments").is_displayed(),
        )

    def fill(self, cells):
        """Open the fetched notebook, write ``cells`` ({index: source}) and save it."""
        self.command("docmanager:open", {"path": NOTEBOOK})
        script = """
            const [path, cells, done] = arguments;
            const app = window.jupyterapp;
            const find = () => {
              for (const w of app.shell.widgets('main')) {
                if (w.context && w.context.path === path) return w;
              }
            };
            const go = async () => {
              let panel;
              for (let i = 0; i < 200 && !(panel = find()); i++) {
                await new Promise(r => setTimeout(r, 100));
              }
              await panel.context.ready;
              for (const [i, text] of Object.entries(cells)) {
                panel.content.model.sharedModel.getCell(Number(i)).setSource(text);
              }
              await panel.context.save();
              done('saved');
            };
            go().catch(e => done('error: ' + e));
        """
        assert self.d.execute_async_script(script, NOTEBOOK, cells) == "saved"

    def validate(self):
        """Press Validate on the fetched notebook in the Assignments tab: "passes" or "fails",
        as nbgrader's validate (run by the student's own server) colours the button."""
        self.assignments()
        link = (
            "//*[@id='fetched_assignments_list']//a[contains(@class,'assignment-notebooks-link')]"
        )
        self.wait("the fetched assignment's notebooks", lambda: self._shown(link)).click()
        button = self.button("fetched_assignments_list", "Validate")
        button.click()

        def verdict():
            classes = button.get_attribute("class")
            return (
                "passes"
                if "btn-success" in classes
                else "fails"
                if "btn-danger" in classes
                else None
            )

        found = self.wait("the validation's verdict", verdict, timeout=120)
        for ok in self.d.find_elements("css selector", ".jp-Dialog-button.jp-mod-accept"):
            ok.click()  # the dialog with nbgrader's details
        return found

    def _shown(self, xpath):
        found = [e for e in self.d.find_elements("xpath", xpath) if e.is_displayed()]
        return found[0] if found else None

    def body(self):
        return self.d.find_element("tag name", "body").text


def submit_in_browser(hub, browser, user, cells, validates):
    lab = Lab(hub, browser, user).login()
    lab.assignments()
    lab.button("released_assignments_list", "Fetch").click()
    lab.button("fetched_assignments_list", "Submit")  # fetched: listed under Downloaded
    lab.fill(cells)
    assert lab.validate() == validates, user
    lab.assignments()
    lab.button("fetched_assignments_list", "Submit").click()
    lab.wait(
        "the submission in the Submitted list",
        lambda: "UTC" in lab.d.find_element("id", "submitted_assignments_list").text,
    )
    return lab


def test_students_submit_and_see_their_scores(course_hub, browser):
    """Do two students fetch, fill in, validate and submit in the Assignments tab (Validate
    passes the full notebook and fails the other), and after collect --exchange, grade and
    feedback --release does the first one fetch feedback showing 10 / 10?"""
    site = course_hub.site
    s1, s2 = site.students
    submit_in_browser(course_hub, browser, s1, answers(site), validates="passes")
    submit_in_browser(course_hub, browser, s2, answers(site, only=1), validates="fails")

    collected = site.kit("collect", "--exchange", "--assignment", ASSIGNMENT).stdout
    assert f"collected   {s1}/{ASSIGNMENT}/graphs.ipynb" in collected
    assert f"collected   {s2}/{ASSIGNMENT}/graphs.ipynb" in collected
    site.kit("grade", "--assignment", ASSIGNMENT, "--workers", "2")
    released = site.kit("feedback", "--assignment", ASSIGNMENT, "--release").stdout
    assert "2 released, 0 skipped" in released, released

    lab = Lab(course_hub, browser, s1).login()
    lab.assignments()
    lab.button("submitted_assignments_list", "Fetch Feedback").click()
    lab.wait(
        "the fetched feedback",
        lambda: "view feedback" in lab.d.find_element("id", "submitted_assignments_list").text,
    )
    feedback = f"{course_hub.url}/user/{s1}/api/contents/{ASSIGNMENT}/feedback"
    lab.d.get(feedback)
    (stamp,) = json.loads(lab.d.find_element("tag name", "pre").text)["content"]
    lab.d.get(f"{course_hub.url}/user/{s1}/files/{ASSIGNMENT}/feedback/{stamp['name']}/graphs.html")
    page = lab.body()
    assert f"Student: {s1}" in page and "Score: 10 / 10" in page, page[:2000]
    assert "BEGIN HIDDEN TESTS" not in lab.d.page_source
    lab.d.get(f"{course_hub.url}/user/{s1}/formgrader")  # off for students
    assert "404" in lab.body() and "Manage Assignments" not in lab.body(), lab.body()[:500]
    available = "return window.jupyterapp.commands.hasCommand('nbgrader:open-formgrader')"
    lab.d.get(f"{course_hub.url}/user/{s1}/lab")
    lab.wait("JupyterLab", lambda: lab.d.execute_script("return !!window.jupyterapp"))
    lab.command("nbgrader:open-assignment-list")  # the plugins have loaded
    assert not lab.d.execute_script(available)


def test_a_wrong_password_is_refused(course_hub, browser):
    """Does the hub's PAM login refuse a student's name with a wrong password?"""
    s1 = course_hub.site.students[0]
    lab = Lab(course_hub, browser, s1)
    d = lab.d
    d.get(f"{course_hub.url}/hub/logout")  # the session cookies live under /hub/ too
    d.delete_all_cookies()
    d.get(f"{course_hub.url}/hub/login")
    lab.wait("the login form", lambda: d.find_element("id", "username_input"))
    d.find_element("id", "username_input").send_keys(s1)
    d.find_element("id", "password_input").send_keys(course_hub.password + "-wrong")
    d.find_element("id", "login_submit").click()
    lab.wait("the refusal", lambda: "Invalid username or password" in lab.body())
    assert not d.execute_script("return !!window.jupyterapp")


def test_formgrader_shows_the_kit_s_grades(course_hub, browser):
    """Does the instructor's formgrader list both collected students with the kit's scores?"""
    site = course_hub.site
    s1, s2 = site.students
    lab = Lab(course_hub, browser, site.instructor).login()
    lab.d.get(f"{course_hub.url}/user/{site.instructor}/formgrader/gradebook/{ASSIGNMENT}/graphs")
    lab.wait("the gradebook rows", lambda: "Submission #2" in lab.body())
    lab.d.find_element("id", "toggle_names").click()  # the formgrader hides names at first
    rows = lab.wait(
        "the students' names", lambda: s1 in lab.body() and s2 in lab.body() and lab.body()
    )
    lines = {line.split()[0]: line for line in rows.splitlines() if line.startswith("bkt")}
    assert "10 / 10" in lines[s1], rows
    assert "10 / 10" not in lines[s2], rows
