"""The gradebook written by `course grade` in a few queries and one transaction is the gradebook
nbgrader's own API writes row by row (the way course.gradebook wrote it before): same tables,
same rows, same stored values, and formgrader reads the same through nbgrader's API. Manual
grades survive a regrade, a failed batch writes nothing, a regrade that changes nothing does
not touch the file.

The reference writer below is nbgrader's per-row API (update_or_create_*, add_submission,
find_grade, find_submission_notebook, find_submission), applied to a second database; both
are compared after every step of a grading history over the course's real source notebooks.
No timing here: speed is measured by hand (bench numbers in the branch's report)."""
import datetime
import os
import sqlite3

import pytest

from cs231n_lib.course import gradebook, pipeline
from cs231n_lib.course.grader import CellResult, NotebookResult
from cs231n_lib.course.submissions import Submission

COURSE = pipeline.COURSE_ID


# ----------------------------------------------------------------------------- the reference

def _gb(db):
    """nbgrader's Gradebook; its commits skip fsync (the reference makes hundreds, and what is
    stored is the same)."""
    from nbgrader.api import Gradebook
    with gradebook._without_fsync():
        return Gradebook(f"sqlite:///{db}", course_id=COURSE)


def reference_register(db, sources):
    with _gb(db) as gb:
        for (assignment, stem), nb in sources.items():
            gb.update_or_create_assignment(assignment)
            gb.update_or_create_notebook(stem, assignment)
            for cell in nb["cells"]:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("grade"):
                    gb.update_or_create_grade_cell(meta["grade_id"], stem, assignment,
                                                   max_score=float(meta.get("points", 0)),
                                                   cell_type=cell["cell_type"])
                if meta.get("solution"):
                    gb.update_or_create_solution_cell(meta["grade_id"], stem, assignment)


def reference_write(db, results):
    import warnings
    from nbgrader.api import MissingEntry
    with warnings.catch_warnings(), _gb(db) as gb:
        warnings.simplefilter("ignore")   # nbgrader's add_submission warns; the rows are right
        for result in results:
            student = gb.update_or_create_student(result.student)
            if not student.last_name:
                gb.update_or_create_student(result.student, last_name=result.student, first_name="")
            try:
                gb.find_submission(result.assignment, result.student)
            except MissingEntry:
                gb.add_submission(result.assignment, result.student)
            for cell in result.cells:
                grade = gb.find_grade(cell.grade_id, result.notebook, result.assignment, result.student)
                written = grade.cell.cell_type == "markdown"
                grade.auto_score = None if written else cell.points
                grade.needs_manual_grade = written or grade.manual_score is not None
            gb.find_submission_notebook(result.notebook, result.assignment,
                                        result.student).flagged = not result.graded
        gb.db.commit()


def reference_timestamps(db, stamps):
    with _gb(db) as gb:
        for (student, assignment), when in stamps.items():
            stamp = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
            gb.find_submission(assignment, student).timestamp = stamp.replace(tzinfo=None)
        gb.db.commit()


def formgrader_grades(db, student, assignment, notebook, cell, score, comment=None):
    """What formgrader's API handlers do on a manual grade and a comment (apihandlers.py)."""
    with _gb(db) as gb:
        grade = gb.find_grade(cell, notebook, assignment, student)
        grade.manual_score = score
        grade.needs_manual_grade = False
        if comment is not None:
            gb.find_comment(cell, notebook, assignment, student).manual_comment = comment
        gb.db.commit()


# ----------------------------------------------------------------------------- comparing

def dump(db):
    """Every table's rows as SQLite stores them (value and storage type), each uuid replaced by
    its row's natural key, and the schema: equal dumps, equal gradebooks."""
    con = sqlite3.connect(str(db))
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    key = {}
    for i, name in q("SELECT id, name FROM assignment"):
        key[i] = ("assignment", name)
    for i, name, a in q("SELECT id, name, assignment_id FROM notebook"):
        key[i] = ("notebook", key.get(a), name)
    for i, name, n, kind in q("SELECT id, name, notebook_id, type FROM base_cell"):
        key[i] = ("cell", key.get(n), name, kind)
    for i, a, s in q("SELECT id, assignment_id, student_id FROM submitted_assignment"):
        key[i] = ("submission", key.get(a), s)
    for i, a, n in q("SELECT id, assignment_id, notebook_id FROM submitted_notebook"):
        key[i] = ("submitted notebook", key.get(a), key.get(n))
    for table in ("grade", "comment"):
        for i, n, c in q(f"SELECT id, notebook_id, cell_id FROM {table}"):
            key[i] = (table, key.get(n), key.get(c))
    out = {"schema": sorted(q("SELECT type, name, tbl_name, sql FROM sqlite_master"))}
    for (table,) in q("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = [c[1] for c in q(f"PRAGMA table_info({table})")]
        out[table] = sorted((tuple((c, key.get(v, v), type(v).__name__) for c, v in zip(columns, row))
                             for row in q(f"SELECT * FROM {table}")), key=repr)
    con.close()
    assert len(key) == len(set(key.values()))   # natural keys are unique: nothing is hidden
    return out


def formgrader_view(db):
    """What formgrader shows, read through nbgrader's API (its ids left out: they are random)."""
    def strip(d):
        return {k: v for k, v in d.items() if k != "id"}
    with _gb(db) as gb:
        view = {"students": sorted(gb.student_dicts(), key=lambda s: s["id"])}
        for assignment in gb.assignments:
            view[assignment.name] = sorted((strip(s) for s in gb.submission_dicts(assignment.name)),
                                           key=repr)
            for nb in assignment.notebooks:
                view[(assignment.name, nb.name)] = sorted(
                    (strip(s) for s in gb.notebook_submission_dicts(nb.name, assignment.name)), key=repr)
                for sub in gb.notebook_submissions(nb.name, assignment.name):
                    for g in sub.grades:
                        view[(assignment.name, nb.name, sub.student.id, g.cell.name)] = (
                            g.auto_score, g.manual_score, g.extra_credit, g.score, g.needs_manual_grade)
    return view


def assert_same(db, ref, view=False):
    assert dump(db) == dump(ref)
    if view:   # follows from equal dumps; read once, at the end, as formgrader would
        assert formgrader_view(db) == formgrader_view(ref)


# ----------------------------------------------------------------------------- a grading history

@pytest.fixture(scope="module")
def sources():
    """Five of the course's source notebooks (written answers, tests of several points)."""
    every = pipeline.load_sources()
    return {key: every[key] for key in sorted(every)[:5]}


def _results(sources, student, seed, keys=None, ungraded=()):
    """One result per notebook: test cells get 0 or full points by a fixed pattern, written
    answers are left to a person (as the grader reports them)."""
    results = []
    for k, (assignment, stem) in enumerate(sorted(keys or sources)):
        cells = []
        for j, cell in enumerate(sources[(assignment, stem)]["cells"]):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("grade"):
                continue
            points = float(meta.get("points", 0))
            if cell["cell_type"] == "markdown":
                cells.append(CellResult(meta["grade_id"], 0.0, points, "manual"))
            else:
                earned = points if (seed + j + k) % 3 else 0.0
                cells.append(CellResult(meta["grade_id"], earned, points,
                                        "passed" if earned else "failed"))
        results.append(NotebookResult(student, assignment, stem, cells=cells,
                                      graded=(assignment, stem) not in ungraded))
    return results


def test_a_grading_history_leaves_the_gradebook_nbgrader_writes(sources, tmp_path, monkeypatch):
    monkeypatch.setattr(gradebook, "IDS_PER_QUERY", 2)   # several `IN (...)` queries per batch
    db, ref = tmp_path / "new" / "gradebook.db", tmp_path / "ref" / "gradebook.db"
    db.parent.mkdir()
    ref.parent.mkdir()
    keys = sorted(sources)
    # a first grading into a new work folder: one notebook unreadable (flagged), one student
    # who handed in only part of the course
    gradebook.register_sources(db, COURSE, sources)
    reference_register(ref, sources)
    first = (_results(sources, "ann", 0) + _results(sources, "bob", 1, ungraded={keys[2]})
             + _results(sources, "cy", 2, keys=keys[:3]) + _results(sources, "dee", 3, keys=keys[4:5]))
    gradebook.write_results(db, COURSE, first, expected_fingerprint=gradebook.fingerprint(db))
    reference_write(ref, first)
    assert_same(db, ref)

    # formgrader: a written answer graded with a comment, a test cell overridden by hand; a
    # student nbgrader knows without a name, one with a name (a roster)
    written = next(c.grade_id for c in first[0].cells if c.status == "manual")
    test = next(c.grade_id for c in first[0].cells if c.status != "manual")
    for target in (db, ref):
        formgrader_grades(target, "ann", *keys[0], written, 1.5, "Good.")
        formgrader_grades(target, "bob", *keys[0], test, 0.5)
        with _gb(target) as gb:
            gb.add_student("eve")
            gb.add_student("fay", first_name="Fay", last_name="Ng", email="fay@example.org")
    assert_same(db, ref)

    # `course grade --roster`: names for some, a new student, a row that blanks a name
    roster = {"ann": {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.org"},
              "eve": {"first_name": None, "last_name": "Eve", "email": None},
              "gus": {"first_name": "Gus", "last_name": None, "email": None},
              "fay": {"first_name": "Fay", "last_name": "Ng", "email": None}}
    gradebook.apply_roster(db, COURSE, roster)
    with _gb(ref) as gb:
        for student_id, fields in roster.items():
            gb.update_or_create_student(student_id, **fields)
    assert_same(db, ref)

    # the course changes: points of a test cell, a new grade cell and a new answer cell
    changed = {k: dict(v, cells=[dict(c, metadata=dict(c.get("metadata", {}))) for c in v["cells"]])
               for k, v in sources.items()}
    cell = next(c for c in changed[keys[1]]["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
                and c["cell_type"] == "code")
    cell["metadata"]["nbgrader"] = dict(cell["metadata"]["nbgrader"], points=7)
    changed[keys[3]]["cells"].append({"cell_type": "markdown", "source": "", "metadata": {"nbgrader": {
        "grade": True, "solution": True, "grade_id": "a_new_question", "points": 2, "locked": False}}})
    gradebook.register_sources(db, COURSE, changed)
    reference_register(ref, changed)
    assert_same(db, ref)

    # a regrade: everyone again (new scores, bob's file now readable, the new cells graded for
    # the students who had none of that assignment), and the new students
    second = (_results(changed, "ann", 5) + _results(changed, "bob", 6) + _results(changed, "cy", 7)
              + _results(changed, "eve", 8, keys=keys[:2]) + _results(changed, "fay", 9, keys=keys[4:])
              + _results(changed, "gus", 10, keys=keys[1:2]))
    second = [r for r in second if not (r.student in ("ann", "bob") and r.assignment == keys[3][0])]
    gradebook.write_results(db, COURSE, second, expected_fingerprint=gradebook.fingerprint(db))
    reference_write(ref, second)
    assert_same(db, ref)
    with _gb(db) as gb:   # the manual grades were kept and still count
        assert gb.find_grade(written, keys[0][1], keys[0][0], "ann").manual_score == 1.5
        assert gb.find_comment(written, keys[0][1], keys[0][0], "ann").manual_comment == "Good."
        override = gb.find_grade(test, keys[0][1], keys[0][0], "bob")
        assert (override.manual_score, override.score, override.needs_manual_grade) == (0.5, 0.5, True)
        assert not gb.find_submission_notebook(keys[2][1], keys[2][0], "bob").flagged   # readable now
        assert (gb.find_student("fay").email, gb.find_student("eve").last_name) == (None, "Eve")

    # formgrader's submission timestamps
    stamps = {("ann", keys[0][0]): 1.7e9, ("bob", keys[0][0]): 1.7e9 + 0.25, ("eve", keys[1][0]): 1.6e9}
    _publish(db, tmp_path / "new", stamps, second, changed)
    reference_timestamps(ref, stamps)
    assert_same(db, ref)
    stamps[("ann", keys[0][0])] = 1.75e9            # handed in again, graded again
    _publish(db, tmp_path / "new", stamps, second, changed)
    reference_timestamps(ref, stamps)
    assert_same(db, ref, view=True)


def _publish(db, work, stamps, results, sources):
    """publish_for_formgrader with submissions whose files have the given modification times."""
    folder = work / "class"
    found = []
    for (student, assignment), when in stamps.items():
        for r in results:
            if (r.student, r.assignment) == (student, assignment):
                origin = f"{student}/{assignment}/{r.notebook}.ipynb"
                (folder / origin).parent.mkdir(parents=True, exist_ok=True)
                (folder / origin).write_text('{"cells": []}')
                os.utime(folder / origin, (when, when))
                found.append(Submission(student, assignment, r.notebook, '{"cells": []}', origin))
                gradebook.write_autograded_copy(work, r, '{"cells": []}')
    chosen = [r for r in results if (r.student, r.assignment) in stamps]
    gradebook.publish_for_formgrader(db, COURSE, work, folder, found, chosen, sources)


def test_a_regrade_that_changes_nothing_does_not_write_and_a_failed_batch_writes_nothing(sources, tmp_path):
    from nbgrader.api import MissingEntry
    db = tmp_path / "gradebook.db"
    results = _results(sources, "ann", 0) + _results(sources, "bob", 1)
    gradebook.register_sources(db, COURSE, sources)
    gradebook.write_results(db, COURSE, results)
    before = db.read_bytes()
    gradebook.register_sources(db, COURSE, sources)
    gradebook.write_results(db, COURSE, _results(sources, "ann", 0) + _results(sources, "bob", 1))
    assert db.read_bytes() == before          # not even SQLite's change counter moved

    # a result naming a cell the gradebook does not have: nbgrader's error, and nothing of the
    # batch is stored (not even the new student before it)
    bad = _results(sources, "cy", 2) + _results(sources, "ann", 4)
    bad[-1].cells.append(CellResult("no_such_cell", 1.0, 1.0, "passed"))
    with pytest.raises(MissingEntry, match="No such grade: .*/no_such_cell for ann"):
        gradebook.write_results(db, COURSE, bad)
    assert db.read_bytes() == before
    unknown = _results(sources, "cy", 2)[:1]
    unknown[0].assignment = "00_not_registered"
    with pytest.raises(MissingEntry, match="No such assignment: 00_not_registered"):
        gradebook.write_results(db, COURSE, unknown)
    assert db.read_bytes() == before


def test_a_changed_gradebook_is_refused_before_anything_is_written(sources, tmp_path):
    db = tmp_path / "gradebook.db"
    gradebook.register_sources(db, COURSE, sources)
    expected = gradebook.fingerprint(db)
    formgrader_like = sqlite3.connect(db)
    formgrader_like.execute("INSERT INTO student (id) VALUES ('mallory')")
    formgrader_like.commit()
    formgrader_like.close()
    changed = db.read_bytes()
    with pytest.raises(gradebook.GradebookTampered):
        gradebook.write_results(db, COURSE, _results(sources, "ann", 0), expected_fingerprint=expected)
    assert db.read_bytes() == changed


def test_only_the_gradebook_being_made_skips_fsync(sources, tmp_path):
    """A new gradebook's tables and registration are committed without fsync; every later
    connection (the one that commits the scores) syncs as SQLite does by default."""
    from nbgrader import api
    from sqlalchemy import text
    original = api.create_engine
    db = tmp_path / "gradebook.db"
    with gradebook._open(db, COURSE, fsync=False) as gb:
        assert gb.db.execute(text("PRAGMA synchronous")).scalar() == 0
    assert api.create_engine is original
    with gradebook._open(db, COURSE, fsync=False) as gb:        # it exists now: no exception
        default = gb.db.execute(text("PRAGMA synchronous")).scalar()
    assert default != 0
    with gradebook._open(tmp_path / "other.db", COURSE) as gb:  # new, default: synced
        assert gb.db.execute(text("PRAGMA synchronous")).scalar() == default


def test_the_graded_notebook_shares_nothing_mutable_with_the_source(sources):
    """graded_notebook copies cells without copy.deepcopy: feedback pages still edit their
    notebook freely, and the sources (shared by every submission of a run) stay as loaded."""
    import json
    from cs231n_lib.course import variants
    key = sorted(sources)[0]
    source = sources[key]
    before = json.dumps(source)
    submission = variants.without_outputs(source)
    answer = next(c for c in submission["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    submission["cells"].remove(answer)                                # deleted by the student
    submission["cells"].append({"cell_type": "code", "metadata": {}, "source": "x = [1]",
                                "outputs": [], "execution_count": None})   # added by the student
    result = _results(sources, "ann", 0, keys=[key])[0]
    nb = gradebook.graded_notebook(source, result, json.dumps(submission))

    def containers(value):
        if isinstance(value, (dict, list)):
            yield value
            for item in (value.values() if isinstance(value, dict) else value):
                yield from containers(item)
    mine = list(containers(nb))
    assert not {id(c) for c in mine} & {id(c) for c in containers(source)}
    assert len({id(c) for c in mine}) == len(mine)                    # nor within itself
    for c in mine:                                                     # a feedback page's edits
        c.append("edited") if isinstance(c, list) else c.update(edited=True)
    assert json.dumps(source) == before
