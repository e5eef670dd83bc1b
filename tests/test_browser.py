"""End to end in a real browser: Debian's headless chromium driven by Selenium.

(a) student: JupyterLab (student configuration) on a release notebook; type an answer, run its
    grade cell, read the message; fix the answer and see the grade cell pass.
(b) instructor: formgrader (instructor configuration) on a class graded by `course grade`;
    give a written answer a manual grade and a comment; `course export` and `course feedback`
    include both.

Servers bind 127.0.0.1 only, on a free port with a random token, and are stopped by the test.
Set COURSE_SCREENSHOTS=DIR to keep screenshots of each step.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="needs Debian's chromium and chromium-driver "
                              "(apt-get install -y chromium chromium-driver; .ci/run does it)"),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in requirements.txt")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server (student or instructor configuration) in its own process group."""

    def __init__(self, role, cwd, tmp, env=(), args=()):
        self.port, self.token = _free_port(), os.urandom(12).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", *args]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.log = open(tmp / f"{role}-lab.log", "w")
        environment = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter" / role),
                       "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "OPENBLAS_NUM_THREADS": "1",
                       **dict(env)}
        self.process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not answer within {seconds} s; see {self.log.name}")

    def status(self, path):
        """HTTP status of GET path (authenticated)."""
        try:
            with urllib.request.urlopen(f"{self.url}{path}?token={self.token}", timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def stop(self):
        """Stop the server and its kernels (its own process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass
        self.log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--no-first-run",
                 "--window-size=1280,900", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _shot(driver, name):
    folder = os.environ.get("COURSE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def _wait(driver, seconds=120):  # generous: CI shares 2 cores with the rest of the suite
    return WebDriverWait(driver, seconds, poll_frequency=0.2)


# ----------------------------------------------------------------------------- (a) student

NOTEBOOK = "04_optimizers/optimizers.ipynb"
WRONG = 'def sgd(w, dw, config=None): config = {} if config is None else config; ' \
        'config.setdefault("learning_rate", 1e-2); return w + config["learning_rate"] * dw, config'
RIGHT = WRONG.replace("w + config", "w - config")


def _cells(driver):
    return driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")


def _cell_index(grade_id):
    nb = json.loads((ROOT / "notebooks" / NOTEBOOK).read_text())
    return next(i for i, c in enumerate(nb["cells"])
                if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _type_into_cell(driver, index, text):
    editor = _cells(driver)[index].find_element(By.CSS_SELECTOR, ".cm-content")
    editor.click()
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(text)
    editor.send_keys(Keys.ESCAPE)   # command mode


def _run_cell(driver, index):
    """Select cell `index` (command mode) and run it with Shift+Enter; wait until it finished."""
    cell = _cells(driver)[index]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
    cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
    cell.send_keys(Keys.SHIFT, Keys.ENTER)
    # the prompt shows [*] while running and [n] when done
    _wait(driver).until(lambda d: _prompt(d, index) not in ("[*]:", "[ ]:", ""))


def _prompt(driver, index):
    return _cells(driver)[index].find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text.strip()


def _output(driver, index):
    return "\n".join(o.text for o in _cells(driver)[index].find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output"))


def test_student_fills_an_answer_runs_its_grade_cell_and_reads_the_message(browser, tmp_path):
    work = tmp_path / "student"
    (work / "04_optimizers").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    # every cell in the DOM (JupyterLab 4 otherwise renders only the cells in view)
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    lab = Lab("student", ROOT, tmp_path, args=[f"--ServerApp.root_dir={work}",
                                               f"--LabApp.user_settings_dir={tmp_path / 'lab-settings'}"])
    try:
        lab.wait_ready()
        assert lab.status("/formgrader") == 404          # the student lab has no formgrader
        browser.get(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}")
        cell_count = len(json.loads((work / NOTEBOOK).read_text())["cells"])
        _wait(browser).until(lambda d: len(_cells(d)) == cell_count)
        _wait(browser).until(lambda d: "Idle" in d.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget, #jp-main-statusbar").text
                             or "Idle" in d.page_source)
        _shot(browser, "student-0-opened")
        menus = " ".join(m.text for m in browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel"))
        assert "Kernel" in menus
        assert "Nbgrader" not in menus and "Formgrader" not in menus
        setup, answer, test = _cell_index("setup"), _cell_index("sgd"), _cell_index("test_sgd")
        _run_cell(browser, setup)
        _type_into_cell(browser, answer, WRONG)
        _run_cell(browser, answer)
        _run_cell(browser, test)
        message = _output(browser, test)
        _shot(browser, "student-1-wrong-answer")
        assert "CheckFailure" in message and "sgd" in message
        _type_into_cell(browser, answer, RIGHT)
        _run_cell(browser, answer)
        _run_cell(browser, test)
        _shot(browser, "student-2-right-answer")
        passed = _output(browser, test)                    # one line on success
        assert passed.startswith("sgd: 3 visible case(s) passed") and "Error" not in passed, passed
        assert "Error fetching courses" not in browser.page_source
    finally:
        lab.stop()


# ----------------------------------------------------------------------------- (b) instructor

ASSIGNMENT, STEM, WRITTEN = "02_sanity_checks", "sanity_checks", "why_train_statistics"


def test_instructor_grades_by_hand_in_formgrader_and_export_includes_it(browser, tmp_path):
    from nbgrader.api import Gradebook

    from cs231n_lib.course import cli, pipeline, variants
    source = json.loads((ROOT / "solutions" / ASSIGNMENT / f"{STEM}.ipynb").read_text())
    folder, work = tmp_path / "class", tmp_path / "work"
    (folder / "ada" / ASSIGNMENT).mkdir(parents=True)
    (folder / "ada" / ASSIGNMENT / f"{STEM}.ipynb").write_text(json.dumps(variants.without_outputs(source)))
    work.mkdir()
    # formgrader starts while the class is graded (both take seconds)
    lab = Lab("instructor", ROOT, tmp_path, env={"COURSE_WORK_DIR": str(work)})
    try:
        assert cli.main(["grade", str(folder), "--work-dir", str(work), "--quiet"]) == 0
        url = f"sqlite:///{work / 'gradebook.db'}"
        with Gradebook(url, course_id=pipeline.COURSE_ID) as gb:
            submission_id = gb.find_submission_notebook(STEM, ASSIGNMENT, "ada").id
        lab.wait_ready()
        browser.get(f"{lab.url}/lab?token={lab.token}")       # logs in (cookie)
        browser.get(f"{lab.url}/formgrader/manage_submissions/{ASSIGNMENT}")
        _wait(browser).until(lambda d: "ada" in d.find_element(By.TAG_NAME, "body").text)
        _shot(browser, "instructor-1-submissions")
        browser.get(f"{lab.url}/formgrader/submissions/{submission_id}/")
        score = _wait(browser).until(EC.element_to_be_clickable((By.ID, WRITTEN)))
        test_output = browser.find_element(By.ID, "test_softmax_loss").find_element(
            By.XPATH, "ancestor::div[contains(concat(' ', @class, ' '), ' code_cell ')]").text
        assert "[passed]" in test_output                        # the grader's message
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", score)
        score.clear()
        score.send_keys("1.5", Keys.TAB)
        comment = browser.find_element(By.ID, f"{WRITTEN}-comment")
        comment.send_keys("Right idea; say why *test* statistics would leak.", Keys.TAB)

        def saved(_):
            with Gradebook(url, course_id=pipeline.COURSE_ID) as gb:
                grade = gb.find_grade(WRITTEN, STEM, ASSIGNMENT, "ada")
                note = gb.find_comment(WRITTEN, STEM, ASSIGNMENT, "ada")
                return grade.manual_score == 1.5 and (note.manual_comment or "").startswith("Right idea")
        _wait(browser, 20).until(saved)
        _shot(browser, "instructor-2-manual-grade")
        # formgrader's Autograde and Generate Feedback buttons run the course's grader and
        # feedback (cs231n_lib.course.formgrader_buttons): the regrade keeps the manual grade.
        browser.get(f"{lab.url}/formgrader/manage_submissions/{ASSIGNMENT}")
        for button in (".autograde a", ".generate-feedback a"):
            _wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, button))).click()
            modal = _wait(browser, 120).until(EC.visibility_of_element_located(
                (By.CSS_SELECTOR, "#success-modal, #error-modal")))
            _shot(browser, f"instructor-3-{button[1:-2]}")
            assert modal.get_attribute("id") == "success-modal", modal.text
            modal.find_element(By.CSS_SELECTOR, "button").click()
            _wait(browser).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, "#success-modal")))
        assert saved(None)
    finally:
        lab.stop()
    assert cli.main(["export", "--work-dir", str(work)]) == 0
    row = {r["student"]: r for r in json.loads((work / "export" / "grades.json").read_text())}["ada"]
    auto_max = sum(float(c["metadata"]["nbgrader"]["points"]) for c in source["cells"]
                   if c["metadata"].get("nbgrader", {}).get("grade") and c["cell_type"] == "code")
    assert row["automatic"] == auto_max and row["manual"] == 1.5
    assert row["total"] == auto_max + 1.5
    page = work / "feedback" / "ada" / ASSIGNMENT / f"{STEM}.html"   # by the button
    browser.get(page.as_uri())
    text = browser.find_element(By.TAG_NAME, "body").text
    _shot(browser, "instructor-4-feedback")
    assert f"{WRITTEN}: 1.5 / 2 points" in text and "Right idea" in text
    assert browser.find_elements(By.TAG_NAME, "math")      # LaTeX rendered (MathML, offline)
    assert "$\\ln C$" not in text
