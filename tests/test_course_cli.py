"""The `course` command on a class folder: matching, exit status, gradebook, parallel and
distributed grading, feedback pages and exports (fixture course)."""
import csv
import json
import zipfile

import pytest

from cs231n_lib.course import cli, pipeline, submissions, variants
from fixture_course import ASSIGNMENT, NOTEBOOK, build_course

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """A class folder in every accepted layout, with the cases the grader must report."""
    root = tmp_path_factory.mktemp("course")
    source = build_course(root)
    good = variants.without_outputs(source)
    with_plot = json.loads(json.dumps(good))
    variants.find_cell(with_plot, "rel_error")["outputs"] = [
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": PNG, "text/plain": "<Figure>"}}]
    wrong = variants.with_answer(good, "rel_error", "def rel_error(a, b):\n    return 0.0")
    folder = root / "class"
    files = {
        f"alice/{ASSIGNMENT}/{NOTEBOOK}.ipynb": json.dumps(with_plot),       # nbgrader layout
        f"submitted/bob/{ASSIGNMENT}/{NOTEBOOK}.ipynb": json.dumps(wrong),   # under submitted/
        f"lms/carol_{NOTEBOOK}-1.ipynb": json.dumps(good),                   # flat LMS name
        f"dave/{ASSIGNMENT}/Untitled.ipynb": json.dumps(good),               # wrong name
        f"erin/{ASSIGNMENT}/{NOTEBOOK}.ipynb": "",                           # empty
        f"lms/frank_{NOTEBOOK}.ipynb": "{corrupt",                           # corrupt JSON
        "lms/notes.txt": "not a notebook",                                   # not a notebook
    }
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    with zipfile.ZipFile(folder / "gina.zip", "w") as archive:               # zip per student
        archive.writestr(f"{NOTEBOOK}.ipynb", json.dumps(good))
    return root, folder


@pytest.fixture(scope="module")
def graded(klass, tmp_path_factory):
    """The class graded once (serially), with what the command printed."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code, work = _grade(klass, tmp_path_factory.mktemp("graded"))
    return code, work, out.getvalue(), err.getvalue()


def _grade(klass, tmp_path, *extra):
    root, folder = klass
    work = tmp_path / "work"
    code = cli.main(["grade", str(folder), "--work-dir", str(work), "--course-root", str(root),
                     "--exercise-module", "fixture_course", "--timeout", "10", "--quiet", *extra])
    return code, work


def _scores(work):
    results, _ = pipeline.load_graded(work)
    return {r.student: (r.score if r.graded else "ungraded") for r in results}


EXPECTED = {"alice": 5.0, "bob": 3.0, "carol": 5.0, "dave": 5.0, "erin": "ungraded",
            "frank": "ungraded", "gina": 5.0}


def test_grade_matches_every_layout_and_exits_nonzero_for_what_it_could_not_grade(graded):
    code, work, out, err = graded
    assert code == 1
    assert _scores(work) == EXPECTED
    assert "NOT GRADED lms/notes.txt: not a notebook" in out
    assert "NOT GRADED erin" in out and "empty" in out
    assert "matched by its answer cells" in out            # dave's Untitled.ipynb
    assert "could not be graded" in err


def test_gradebook_holds_the_scores_and_regrading_one_student_changes_nothing_else(klass, tmp_path):
    from nbgrader.api import Gradebook
    _, work = _grade(klass, tmp_path)
    url = f"sqlite:///{work / 'gradebook.db'}"

    def db_scores():
        with Gradebook(url, course_id=pipeline.COURSE_ID) as gb:
            return {s: gb.find_submission(ASSIGNMENT, s).score for s in EXPECTED
                    if EXPECTED[s] != "ungraded"}
    first = db_scores()
    assert first == {s: v for s, v in EXPECTED.items() if v != "ungraded"}
    root, folder = klass
    single = tmp_path / "single"
    (single / "bob" / ASSIGNMENT).mkdir(parents=True)
    (single / "bob" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").write_text(
        json.dumps(variants.without_outputs(json.loads((root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()))))
    assert cli.main(["grade", str(single), "--work-dir", str(work), "--course-root", str(root),
                     "--exercise-module", "fixture_course", "--quiet"]) == 0
    after = db_scores()
    assert after["bob"] == 5.0
    assert {s: v for s, v in after.items() if s != "bob"} == {s: v for s, v in first.items() if s != "bob"}


def test_parallel_jobs_give_the_same_grades(klass, tmp_path):
    code, work = _grade(klass, tmp_path, "--jobs", "2")
    assert code == 1 and _scores(work) == EXPECTED


def test_dask_scheduler_gives_the_same_grades(klass, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        code, work = _grade(klass, tmp_path, "--scheduler", cluster.scheduler_address)
    assert code == 1 and _scores(work) == EXPECTED


def test_feedback_pages_show_results_and_plots_but_no_hidden_tests(klass, graded):
    work = graded[1]
    root, _ = klass
    assert cli.main(["feedback", "--work-dir", str(work), "--course-root", str(root)]) == 0
    pages = sorted((work / "feedback").rglob("*.html"))
    assert len(pages) == len(EXPECTED)
    alice = (work / "feedback" / "alice" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    bob = (work / "feedback" / "bob" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "data:image/png;base64," in alice                  # the student's plot
    assert "max relative error" in bob and "test_rel_error" in bob
    for page in pages:
        html = page.read_text()
        assert "HIDDEN TESTS" not in html and "hidden=True" not in html


def test_export_writes_csv_with_max_points_and_json_detail(klass, graded):
    work = graded[1]
    root, _ = klass
    assert cli.main(["export", "--work-dir", str(work), "--course-root", str(root)]) == 0
    rows = list(csv.reader(open(work / "export" / "grades.csv")))
    nb = f"{ASSIGNMENT}/{NOTEBOOK}"
    assert rows[0] == ["student", f"{nb} automatic (max 5)", f"{nb} manual (max 1)",
                       f"{nb} total (max 6)", "total (max 6)", "ungraded written answers"]
    bob = {r[0]: r for r in rows[1:]}["bob"]
    assert bob[1:5] == ["3", "0", "3", "3"] and bob[5] == f"{nb}:why"
    lms = list(csv.reader(open(work / "export" / "grades_by_assignment.csv")))
    assert lms[0] == ["student", f"{ASSIGNMENT} (max 6)"] and ["bob", "3"] in lms
    detail = json.loads((work / "export" / "grades.json").read_text())
    bob = next(d for d in detail if d["student"] == "bob")
    assert {c["grade_id"]: c["status"] for c in bob["cells"]}["test_rel_error"] == "failed"


def test_unknown_folder_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "nope"), "--work-dir", str(tmp_path / "w")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_flat_names_need_a_student_prefix():
    catalog = submissions.Catalog({(ASSIGNMENT, NOTEBOOK): {"rel_error"}})
    assert isinstance(submissions._match_flat(NOTEBOOK, "", catalog), submissions.Unmatched)
    student, key, _ = submissions._match_flat(f"Smith, Jo_{ASSIGNMENT}_{NOTEBOOK} (2)", "", catalog)
    assert student == "Smith_Jo" and key == (ASSIGNMENT, NOTEBOOK)


# ----------------------------------------------------------------------------- CLI conventions

def test_help_lists_the_commands_one_per_line_and_version_prints(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "\n  course grade FOLDER" in out and "\n  course export" in out
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("course ")


@pytest.mark.parametrize("argv, expected", [
    (["validate", "99_bogus"], "unknown assignment 99_bogus"),
    (["release", "99_bogus"], "unknown assignment 99_bogus"),
    (["run-solutions", "99_bogus"], "unknown assignment 99_bogus"),
    (["grade", ".", "--jobs", "0"], "--jobs: must be at least 1"),
    (["grade", ".", "--timeout", "-1"], "--timeout: must be more than 0"),
    (["demo", "--jobs", "x"], "is not a whole number"),
])
def test_bad_names_and_options_are_one_line_errors_with_status_2(argv, expected, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:   # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_grading_a_file_says_to_pass_its_folder(tmp_path, capsys):
    nb = tmp_path / "x.ipynb"
    nb.write_text("{}")
    assert cli.main(["grade", str(nb), "--work-dir", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "is a file; pass the folder" in err and len(err.strip().splitlines()) == 1


def test_export_to_an_unwritable_folder_is_a_one_line_error(graded, klass, capsys):
    root, _ = klass
    assert cli.main(["export", "--work-dir", str(graded[1]), "--course-root", str(root),
                     "--out", "/proc/nope"]) == 2
    err = capsys.readouterr().err
    assert "cannot write the export to /proc/nope" in err and len(err.strip().splitlines()) == 1


def test_empty_folder_and_export_before_grading_warn(klass, tmp_path, capsys):
    root, _ = klass
    (tmp_path / "empty").mkdir()
    assert cli.main(["grade", str(tmp_path / "empty"), "--work-dir", str(tmp_path / "w"),
                     "--course-root", str(root)]) == 1
    assert "no submissions found" in capsys.readouterr().err
    for command in ("export", "feedback"):
        assert cli.main([command, "--work-dir", str(tmp_path / "w"), "--course-root", str(root)]) == 1
        assert "nothing has been graded" in capsys.readouterr().err
    assert not (tmp_path / "w" / "export").exists()


def test_assignment_filter_skips_other_assignments_with_a_note(tmp_path, capsys):
    """Two assignments in the course; grading only one notes the other's files, no error."""
    root = tmp_path / "course"
    source = build_course(root)
    other_source = json.loads(json.dumps(source))
    for cell in other_source["cells"]:     # its own grade ids: a different notebook
        if variants.grade_id(cell):
            cell["metadata"]["nbgrader"]["grade_id"] = "other_" + variants.grade_id(cell)
    other = root / "solutions" / "98_other" / "other.ipynb"
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps(other_source))
    folder = tmp_path / "class"
    for assignment, stem, nb in ((ASSIGNMENT, NOTEBOOK, source), ("98_other", "other", other_source)):
        path = folder / "amy" / assignment / f"{stem}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(variants.without_outputs(nb)))
    code = cli.main(["grade", str(folder), "--work-dir", str(tmp_path / "w"), "--course-root",
                     str(root), "--assignment", ASSIGNMENT, "--exercise-module", "fixture_course",
                     "--timeout", "10"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "NOT GRADED" not in out
    assert "note: skipped amy/98_other/other.ipynb: belongs to 98_other" in out
    assert "[1/1] graded amy 99_fixture/fixture: 5/6" in out      # plain progress lines
