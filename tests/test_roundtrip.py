"""The instructor's round trip: `course grade` -> formgrader (manual grade + comment, stored as
formgrader stores them) -> `course export` and `course feedback` (fixture course).

Also: what formgrader is shown (the graded notebook, not the raw file), which cells need a
person, and that feedback pages are rendered notebooks without hidden tests."""
import csv
import json
import re

import pytest

from cs231n_lib.course import cli, gradebook, pipeline, variants
from fixture_course import ASSIGNMENT, NOTEBOOK, build_course

NB = f"{ASSIGNMENT}/{NOTEBOOK}"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Three students graded: ann (correct), tom (edited one test cell, deleted another, wrong
    rel_error), zed (a corrupt file)."""
    root = tmp_path_factory.mktemp("rt")
    source = build_course(root)
    good = variants.without_outputs(source)
    tampered = variants.with_answer(good, "rel_error", "def rel_error(a, b):\n    return 0.0")
    variants.find_cell(tampered, "test_sgd_momentum")["source"] = "pass  # a student 'fixed' it"
    tampered["cells"].remove(variants.find_cell(tampered, "test_scaled_normal"))
    folder = root / "class"
    for student, text in (("ann", json.dumps(good)), ("tom", json.dumps(tampered)),
                          ("zed", '{"cells": [ not json')):
        path = folder / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(text)
    work = root / "work"
    code = cli.main(["grade", str(folder), "--work-dir", str(work), "--course-root", str(root),
                     "--exercise-module", "fixture_course", "--timeout", "10", "--quiet"])
    assert code == 1  # zed could not be graded
    return root, work, source


def _formgrader_grades(work, student, cell, score, comment):
    """What formgrader's API handlers do on a manual grade and a comment (apihandlers.py)."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", course_id=pipeline.COURSE_ID) as gb:
        grade = gb.find_grade(cell, NOTEBOOK, ASSIGNMENT, student)
        grade.manual_score = score
        grade.needs_manual_grade = False
        gb.find_comment(cell, NOTEBOOK, ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()


def _needs_manual(work, student):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", course_id=pipeline.COURSE_ID) as gb:
        nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        return {g.cell.name: g.needs_manual_grade for g in nb.grades}


def test_only_written_answers_wait_for_a_person(course):
    _, work, _ = course
    assert _needs_manual(work, "ann") == {"test_rel_error": False, "test_sgd_momentum": False,
                                          "test_scaled_normal": False, "why": True}
    # the corrupt file: 0 on its tests, its written answer waits, and it is flagged for a look
    assert _needs_manual(work, "zed") == _needs_manual(work, "ann")
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", course_id=pipeline.COURSE_ID) as gb:
        assert gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "zed").flagged
        assert not gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "ann").flagged
        assert gb.find_grade("test_rel_error", NOTEBOOK, ASSIGNMENT, "zed").auto_score == 0


def test_formgrader_sees_the_graded_notebook_with_the_graders_messages(course):
    root, work, source = course
    graded = json.loads((work / "autograded" / "tom" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())
    by_id = {variants.grade_id(c): c for c in graded["cells"] if variants.grade_id(c)}
    for gid in ("test_rel_error", "test_sgd_momentum", "test_scaled_normal"):  # edited, deleted
        assert by_id[gid]["source"] == variants.find_cell(source, gid)["source"]
        assert by_id[gid]["metadata"]["nbgrader"] == variants.find_cell(source, gid)["metadata"]["nbgrader"]
    assert "max relative error" in by_id["test_rel_error"]["outputs"][0]["text"]
    assert by_id["test_rel_error"]["outputs"][0]["text"].startswith("[failed]")
    assert by_id["test_sgd_momentum"]["outputs"][0]["text"].startswith("[passed]")
    assert "return 0.0" in by_id["rel_error"]["source"]          # the student's answer
    order = [variants.grade_id(c) for c in graded["cells"] if variants.grade_id(c)]
    assert order.index("scaled_normal") < order.index("test_scaled_normal") < order.index("why")
    corrupt = json.loads((work / "autograded" / "zed" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())
    assert "could not be graded" in corrupt["cells"][0]["source"]
    assert all("BEGIN SOLUTION" not in variants.source_text(c) for c in corrupt["cells"])
    # nbgrader's layout: the file as handed in, with a timestamp formgrader reads; the release
    # mirrored where formgrader looks to call an assignment released
    assert (work / "submitted" / "zed" / ASSIGNMENT / "timestamp.txt").read_text().startswith("20")
    assert (work / "exchange" / pipeline.COURSE_ID / "outbound" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()


def test_manual_grade_and_comment_reach_export_and_feedback(course, tmp_path):
    root, work, _ = course
    _formgrader_grades(work, "ann", "why", 0.5, "Half right: say *why* the $\\eta$ matters.")
    assert cli.main(["export", "--work-dir", str(work), "--course-root", str(root),
                     "--out", str(tmp_path / "export")]) == 0
    rows = {r[0]: r for r in csv.reader(open(tmp_path / "export" / "grades.csv"))}
    assert rows["ann"][1:5] == ["5", "0.5", "5.5", "5.5"]         # automatic, manual, total
    assert rows["ann"][5] == ""                                    # nothing left to grade by hand
    assert rows["tom"][5] == f"{NB}:why"                           # still waiting
    detail = {d["student"]: d for d in json.loads((tmp_path / "export" / "grades.json").read_text())}
    why = next(c for c in detail["ann"]["cells"] if c["grade_id"] == "why")
    assert why["manual_score"] == 0.5 and why["comment"].startswith("Half right")
    assert cli.main(["feedback", "--work-dir", str(work), "--course-root", str(root),
                     "--out", str(tmp_path / "fb")]) == 0
    page = (tmp_path / "fb" / "ann" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "why: 0.5 / 1 points" in page and "Half right" in page
    assert "total <strong>5.5 / 6</strong>" in page
    assert re.search("<math[^>]*><mrow><mi>\u03b7</mi>", page)       # LaTeX rendered as MathML
    assert "$\\eta$" not in page                               # LaTeX rendered as MathML


def test_feedback_page_is_a_rendered_notebook_without_hidden_tests(course, tmp_path):
    root, work, _ = course
    pipeline.write_all_feedback(work, root=root, out_dir=tmp_path)
    page = (tmp_path / "tom" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert ">Fixture notebook" in page and "# Fixture notebook" not in page   # markdown rendered
    assert "<strong>why: not graded yet</strong>" in page and "**why" not in page
    assert "max relative error" in page                                        # grader's message
    assert "test_scaled_normal: 0 / 1 points" in page or "test_scaled_normal: 1 / 1 points" in page
    for student in ("ann", "tom", "zed"):
        text = (tmp_path / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
        assert "HIDDEN TESTS" not in text and "hidden=True" not in text
    zed = (tmp_path / "zed" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "could not be graded" in zed and "BEGIN SOLUTION" not in zed   # no answers, no solution


def test_regrading_keeps_manual_grades(course, tmp_path):
    root, work, _ = course
    _formgrader_grades(work, "tom", "why", 1.0, "Good.")
    cli.main(["grade", str(root / "class"), "--work-dir", str(work), "--course-root", str(root),
              "--exercise-module", "fixture_course", "--timeout", "10", "--quiet"])
    grades = gradebook.read_grades(work / "gradebook.db", pipeline.COURSE_ID)[("tom", ASSIGNMENT, NOTEBOOK)]
    assert grades.cells["why"].manual_score == 1.0 and grades.cells["why"].comment == "Good."
    assert not grades.cells["test_rel_error"].needs_manual_grade


def test_a_roster_gives_formgrader_names_and_a_bad_one_is_a_usage_error(course, tmp_path, capsys):
    from nbgrader.api import Gradebook
    root, work, _ = course
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nann,Ann,Lee,ann@example.org\n")
    assert cli.main(["grade", str(root / "class"), "--work-dir", str(work), "--course-root", str(root),
                     "--exercise-module", "fixture_course", "--timeout", "10", "--quiet",
                     "--roster", str(roster)]) == 1                       # zed is still corrupt
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", course_id=pipeline.COURSE_ID) as gb:
        assert (gb.find_student("ann").last_name, gb.find_student("ann").first_name) == ("Lee", "Ann")
        assert gb.find_student("tom").last_name == "tom"                  # not on the roster: its id
    roster.write_text("name\nann\n")
    assert cli.main(["grade", str(root / "class"), "--work-dir", str(work), "--course-root", str(root),
                     "--roster", str(roster)]) == 2
    assert "needs an id column" in capsys.readouterr().err


def test_a_new_gradebook_is_stamped_with_nbgraders_schema_version(tmp_path):
    """The gradebook made by `course grade` (schema version read in process) carries the same
    alembic version as one nbgrader makes itself (`alembic heads` in a subprocess)."""
    from nbgrader import api
    from sqlalchemy import create_engine, text
    original = api.get_alembic_version
    with gradebook._open(tmp_path / "gradebook.db", pipeline.COURSE_ID):
        pass
    assert api.get_alembic_version is original       # nbgrader's own function is put back
    engine = create_engine(f"sqlite:///{tmp_path / 'gradebook.db'}")
    with engine.connect() as connection:
        stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert stamped == original()
