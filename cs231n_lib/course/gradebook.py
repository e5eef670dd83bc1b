"""nbgrader's gradebook as the one record of grades, shared by `course` and formgrader.

`course grade` writes automatic scores into it (only the process that runs `course grade` does,
after every submission is graded, and only if the database is exactly as it was when grading
started); formgrader adds manual scores and comments to the same rows; `course export` and
`course feedback` read every score back from it (`read_grades`), so both see manual grading.

The work folder follows nbgrader's layout, so formgrader shows what the grader did:
`submitted/<student>/<assignment>/<nb>.ipynb` (the file as handed in, with `timestamp.txt`)
and `autograded/<student>/<assignment>/<nb>.ipynb` — the notebook as graded: test cells taken
from the source, each with the grader's message as its output — plus `<nb>.grading.json`.
"""
import copy
import datetime
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cs231n_lib.i18n import tr

from .variants import cell_role, grade_id

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


class GradebookTampered(RuntimeError):
    """The gradebook changed while student code was running."""


def fingerprint(db_path):
    path = Path(db_path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


def _db_url(db_path):
    return f"sqlite:///{Path(db_path).resolve()}"


def _open(db_path, course_id, fsync=True):
    """nbgrader's Gradebook on db_path (made if missing). fsync=False: a gradebook made by this
    call commits without fsync for as long as it is open (see _without_fsync)."""
    from nbgrader.api import Gradebook
    if Path(db_path).exists():
        return Gradebook(_db_url(db_path), course_id=course_id)
    with _alembic_head_in_process(), _without_fsync(not fsync):
        return Gradebook(_db_url(db_path), course_id=course_id)


@contextmanager
def _without_fsync(active=True):
    """While nbgrader creates a new gradebook, its engine's connections skip the fsync of a commit.

    nbgrader makes its 13 tables one autocommitted CREATE TABLE at a time, then stamps the
    schema version and adds the course: ~16 commits, each an fsync (~0.3 s of a first
    `course grade`). A gradebook made just now has nothing to lose: SQLite still writes every
    commit (safe if this process dies), and the first commit made with the default setting
    (write_results, on a new connection) makes the whole file durable. Only the engine made
    here is affected; nbgrader's create_engine is put back afterwards."""
    if not active:
        yield
        return
    from nbgrader import api
    from sqlalchemy import event
    original = api.create_engine

    def create_engine(*args, **kwargs):
        engine = original(*args, **kwargs)
        event.listen(engine, "connect",
                     lambda connection, _record: connection.execute("PRAGMA synchronous=OFF"))
        return engine
    api.create_engine = create_engine
    try:
        yield
    finally:
        api.create_engine = original


@contextmanager
def _alembic_head_in_process():
    """While nbgrader creates a new gradebook, read its schema version in this process.

    nbgrader stamps a new database with `alembic heads`, run as a subprocess that imports
    SQLAlchemy and alembic again (~3 s of a fresh `course grade`, 0.1 s in process). Same
    head, same migration scripts (nbgrader's own alembic folder); nbgrader's function is put
    back afterwards, so nbgrader used elsewhere in this process is unchanged."""
    from alembic.script import ScriptDirectory
    from nbgrader import api
    from nbgrader.dbutil import ALEMBIC_DIR
    original = api.get_alembic_version
    api.get_alembic_version = lambda: ScriptDirectory(ALEMBIC_DIR).get_current_head()
    try:
        yield
    finally:
        api.get_alembic_version = original


def register_sources(db_path, course_id, sources):
    """Make sure every assignment, notebook, grade cell and answer cell exists in the gradebook.

    sources: {(assignment, notebook stem): source notebook dict}.

    The rows nbgrader's update_or_create_assignment/_notebook/_grade_cell/_solution_cell would
    leave (same tables, ids made by nbgrader's new_uuid, same values), found with three queries
    and written in one transaction instead of a query and a commit per cell (~250 and ~130 for
    this course): a gradebook that already has them all is only read.
    """
    from nbgrader import api
    from sqlalchemy import select
    A, N, B = api.Assignment.__table__, api.Notebook.__table__, api.BaseCell.__table__
    G, S = api.GradeCell.__table__, api.SolutionCell.__table__
    with _open(db_path, course_id, fsync=False) as gb:
        conn = gb.db.connection()
        assignments = dict(conn.execute(select(A.c.name, A.c.id)).all())
        notebooks = {(aid, name): nid for nid, name, aid in
                     conn.execute(select(N.c.id, N.c.name, N.c.assignment_id)).all()}
        # (notebook id, name, type) -> [cell id, max_score, cell_type] (the last two: grade cells)
        cells = {(nid, name, kind): [cid, max_score, cell_type]
                 for cid, name, nid, kind, max_score, cell_type in conn.execute(
                     select(B.c.id, B.c.name, B.c.notebook_id, B.c.type, G.c.max_score, G.c.cell_type)
                     .select_from(B.outerjoin(G, G.c.id == B.c.id))).all()}
        new = {"assignment": [], "notebook": [], "base": [], "grade": [], "solution": []}
        changed = {}   # grade cell id -> its [id, max_score, cell_type] (the row to write)
        for (assignment, stem), nb in sources.items():
            if assignment not in assignments:
                assignments[assignment] = api.new_uuid()
                new["assignment"].append({"id": assignments[assignment], "name": assignment,
                                          "duedate": None, "course_id": gb.course_id})
            aid = assignments[assignment]
            if (aid, stem) not in notebooks:
                notebooks[(aid, stem)] = api.new_uuid()
                new["notebook"].append({"id": notebooks[(aid, stem)], "name": stem,
                                        "assignment_id": aid})
            nid = notebooks[(aid, stem)]
            for cell in nb["cells"]:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("grade"):
                    want = [float(meta.get("points", 0)), cell["cell_type"]]
                    row = cells.get((nid, meta["grade_id"], "GradeCell"))
                    if row is None:
                        row = cells[(nid, meta["grade_id"], "GradeCell")] = [api.new_uuid(), *want]
                        new["base"].append({"id": row[0], "name": meta["grade_id"],
                                            "notebook_id": nid, "type": "GradeCell"})
                        new["grade"].append(row)
                    elif row[1:] != want:
                        row[1:] = want
                        changed[row[0]] = row
                if meta.get("solution") and (nid, meta["grade_id"], "SolutionCell") not in cells:
                    cid = api.new_uuid()
                    cells[(nid, meta["grade_id"], "SolutionCell")] = [cid, None, None]
                    new["base"].append({"id": cid, "name": meta["grade_id"], "notebook_id": nid,
                                        "type": "SolutionCell"})
                    new["solution"].append({"id": cid})
        added = {row[0] for row in new["grade"]}
        changed = [row for cid, row in changed.items() if cid not in added]
        _write(gb, conn, {A: new["assignment"], N: new["notebook"], B: new["base"], S: new["solution"],
                          G: [{"id": i, "max_score": m, "cell_type": t} for i, m, t in new["grade"]]},
               {G: [{"_id": i, "max_score": m, "cell_type": t} for i, m, t in changed]})


@contextmanager
def _as_invalid_entry(gb):
    """A write the database refuses is rolled back and reported as nbgrader's API reports it."""
    from nbgrader.api import InvalidEntry
    from sqlalchemy.exc import StatementError
    try:
        yield
    except StatementError as exc:   # IntegrityError is one too
        gb.db.rollback()
        raise InvalidEntry(*exc.args) from exc


IDS_PER_QUERY = 500   # SQLite limits the parameters of one statement


def _chunks(items):
    """Student ids, IDS_PER_QUERY at a time (one `IN (...)` query each)."""
    items, size = list(items), IDS_PER_QUERY
    return [items[i:i + size] for i in range(0, len(items), size)]


def write_results(db_path, course_id, results, expected_fingerprint=None):
    """Store automatic scores; written answers (and undecided cells) wait for manual grading.

    Manual scores and comments already given in formgrader are kept: a regrade replaces only
    the automatic part.

    The rows nbgrader's API leaves (update_or_create_student, add_submission, then each
    find_grade's auto_score and needs_manual_grade and find_submission_notebook's flagged),
    read with a few queries and written in one transaction: one commit (one fsync) per batch,
    nothing of a batch that fails, and nothing at all when a batch changes no value.
    """
    from nbgrader import api
    from nbgrader.api import MissingEntry
    if expected_fingerprint is not None and fingerprint(db_path) != expected_fingerprint:
        raise GradebookTampered(f"{db_path} changed while submissions were being graded; "
                                "nothing was written. Grade again.")
    results = list(results)
    with _open(db_path, course_id) as gb:
        conn = gb.db.connection()
        course = _course_structure(conn)
        students, submissions, sub_notebooks, grades = _batch_rows(
            conn, dict.fromkeys(r.student for r in results))
        before_grades = {key: dict(row) for key, row in grades.items()}
        before_flags = {key: dict(row) for key, row in sub_notebooks.items()}
        new = {"student": [], "renamed": [], "submission": [], "notebook": [], "grade": [],
               "comment": []}
        for result in results:
            student = result.student
            if student not in students:
                # formgrader lists "last, first"; show the id, not "None"
                new["student"].append({"id": student, "first_name": "", "last_name": student})
                students[student] = student
            elif not students[student]:
                new["renamed"].append({"_id": student, "first_name": "", "last_name": student})
                students[student] = student
            aid = course.assignments.get(result.assignment)
            if (aid, student) not in submissions:
                if aid is None:
                    raise MissingEntry(f"No such assignment: {result.assignment}")
                submissions[(aid, student)] = _add_submission(course, aid, student, new,
                                                              sub_notebooks, grades)
            nid = course.notebooks.get(aid, {}).get(result.notebook)
            sub_nb = sub_notebooks.get((submissions[(aid, student)], nid))
            for cell in result.cells:
                cid, cell_type = course.graded.get(nid, {}).get(cell.grade_id, (None, None))
                grade = grades.get((sub_nb["id"], cid)) if sub_nb else None
                if grade is None:
                    raise MissingEntry(f"No such grade: {result.assignment}/{result.notebook}/"
                                       f"{cell.grade_id} for {student}")
                written = cell_type == "markdown"
                grade["auto_score"] = None if written else cell.points
                # nbgrader's rule (SaveAutoGrades): a cell needs a person when the machine did
                # not decide it (written answers) or a person already overrode it.
                grade["needs_manual_grade"] = written or grade["manual_score"] is not None
            # A file the grader could not read scores 0 on its tests and is *flagged* (formgrader's
            # "Flagged?" column), so a person looks at it; a later good grading clears the flag.
            if sub_nb is None:
                raise MissingEntry(f"No such submitted notebook: {result.assignment}/"
                                   f"{result.notebook} for {student}")
            sub_nb["flagged"] = not result.graded
        inserted = set(new["grade"])
        new["grade"] = [dict(grades[key], notebook_id=key[0], cell_id=key[1])
                        for key in new["grade"]]
        for row in new["notebook"]:
            row["flagged"] = sub_notebooks[(row["assignment_id"], row["notebook_id"])]["flagged"]
        updates = {
            api.Student.__table__: new["renamed"],
            api.Grade.__table__: [
                {"_id": row["id"], "auto_score": row["auto_score"],
                 "needs_manual_grade": row["needs_manual_grade"]}
                for key, row in grades.items() if key not in inserted and row != before_grades[key]],
            api.SubmittedNotebook.__table__: [
                {"_id": row["id"], "flagged": row["flagged"]}
                for key, row in sub_notebooks.items()
                if key in before_flags and row != before_flags[key]],
        }
        inserts = {api.Student.__table__: new["student"],
                   api.SubmittedAssignment.__table__: new["submission"],
                   api.SubmittedNotebook.__table__: new["notebook"],
                   api.Grade.__table__: new["grade"], api.Comment.__table__: new["comment"]}
        # One commit for the batch (a commit is an fsync): the scores of a grading run are
        # stored together, with the students and submissions they belong to.
        _write(gb, conn, inserts, updates)


def _write(gb, conn, inserts, updates):
    """{table: rows} inserted, then {table: rows with `_id`} updated by id; one commit, if any."""
    from sqlalchemy import bindparam
    if not any(inserts.values()) and not any(updates.values()):
        return
    with _as_invalid_entry(gb):
        for table, rows in inserts.items():
            if rows:
                conn.execute(table.insert(), rows)
        for table, rows in updates.items():
            if rows:
                conn.execute(table.update().where(table.c.id == bindparam("_id")), rows)
        gb.db.commit()


@dataclass
class _Course:
    assignments: dict   # name -> assignment id
    notebooks: dict     # assignment id -> {notebook name: notebook id}
    mirrored: dict      # notebook id -> [(cell id, type)]: the cells add_submission mirrors
    graded: dict        # notebook id -> {cell name: (cell id, cell_type)}, as find_grade finds them


def _course_structure(conn):
    """The gradebook's assignments, notebooks and cells (three queries)."""
    from nbgrader import api
    from sqlalchemy import select
    A, N, B = api.Assignment.__table__, api.Notebook.__table__, api.BaseCell.__table__
    GC, TC = api.GradeCell.__table__, api.TaskCell.__table__
    course = _Course(dict(conn.execute(select(A.c.name, A.c.id)).all()), {}, {}, {})
    for nid, name, aid in conn.execute(select(N.c.id, N.c.name, N.c.assignment_id)).all():
        course.notebooks.setdefault(aid, {})[name] = nid
    for cid, name, nid, kind, gc_type, tc_type in conn.execute(
            select(B.c.id, B.c.name, B.c.notebook_id, B.c.type, GC.c.cell_type, TC.c.cell_type)
            .select_from(B.outerjoin(GC, GC.c.id == B.c.id).outerjoin(TC, TC.c.id == B.c.id))).all():
        course.mirrored.setdefault(nid, []).append((cid, kind))
        # find_grade looks for a grade cell of that name first, then for a task cell
        if kind == "GradeCell" or (kind == "TaskCell" and name not in course.graded.get(nid, {})):
            course.graded.setdefault(nid, {})[name] = (cid, gc_type if kind == "GradeCell" else tc_type)
    return course


def _batch_rows(conn, student_ids):
    """Every student's last name, and the batch's students' submissions, submitted notebooks
    and grades: {(assignment id, student): submission id}, {(submission id, notebook id):
    {id, flagged}}, {(submitted notebook id, cell id): {id, auto_score, manual_score,
    needs_manual_grade}}."""
    from nbgrader import api
    from sqlalchemy import select
    ST, SA = api.Student.__table__, api.SubmittedAssignment.__table__
    SN, G = api.SubmittedNotebook.__table__, api.Grade.__table__
    students = dict(conn.execute(select(ST.c.id, ST.c.last_name)).all())
    submissions, sub_notebooks, grades = {}, {}, {}
    for ids in _chunks(student_ids):
        of_batch = SA.c.student_id.in_(ids)
        for subid, aid, student in conn.execute(
                select(SA.c.id, SA.c.assignment_id, SA.c.student_id).where(of_batch)):
            submissions[(aid, student)] = subid
        for snid, subid, nid, flagged in conn.execute(
                select(SN.c.id, SN.c.assignment_id, SN.c.notebook_id, SN.c.flagged)
                .join(SA, SA.c.id == SN.c.assignment_id).where(of_batch)):
            sub_notebooks[(subid, nid)] = {"id": snid, "flagged": flagged}
        for gid, snid, cid, auto, manual, needs in conn.execute(
                select(G.c.id, G.c.notebook_id, G.c.cell_id, G.c.auto_score, G.c.manual_score,
                       G.c.needs_manual_grade)
                .join(SN, SN.c.id == G.c.notebook_id).join(SA, SA.c.id == SN.c.assignment_id)
                .where(of_batch)):
            grades[(snid, cid)] = {"id": gid, "auto_score": auto, "manual_score": manual,
                                   "needs_manual_grade": needs}
    return students, submissions, sub_notebooks, grades


def _add_submission(course, aid, student, new, sub_notebooks, grades):
    """nbgrader's add_submission: the submission mirrors the whole assignment (a submitted
    notebook per notebook, a grade per grade or task cell, a comment per answer or task cell,
    with the columns' defaults). Rows go to `new`, sub_notebooks and grades; returns its id."""
    from nbgrader import api
    subid = api.new_uuid()
    new["submission"].append({"id": subid, "assignment_id": aid, "student_id": student})
    for nid in course.notebooks.get(aid, {}).values():
        row = sub_notebooks[(subid, nid)] = {"id": api.new_uuid(), "flagged": False}
        new["notebook"].append(dict(row, assignment_id=subid, notebook_id=nid))
        for cid, kind in course.mirrored.get(nid, ()):
            if kind in ("GradeCell", "TaskCell"):
                grades[(row["id"], cid)] = {"id": api.new_uuid(), "auto_score": None,
                                            "manual_score": None, "needs_manual_grade": True}
                new["grade"].append((row["id"], cid))
            if kind in ("SolutionCell", "TaskCell"):
                new["comment"].append({"id": api.new_uuid(), "cell_id": cid, "notebook_id": row["id"]})
    return subid


def write_autograded_copy(work_dir, result, submission_text):
    """Keep the file as handed in (submitted/) and the grader's per-cell results (autograded/)."""
    work_dir = Path(work_dir)
    submitted = work_dir / "submitted" / result.student / result.assignment
    submitted.mkdir(parents=True, exist_ok=True)
    (submitted / f"{result.notebook}.ipynb").write_text(submission_text)
    folder = work_dir / "autograded" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{result.notebook}.grading.json").write_text(json.dumps(result.to_dict(), indent=1))


def read_roster(path):
    """{student id: {first_name, last_name, email}} from a CSV with an `id` column (LMS exports
    call it id, student_id or username) and any of first_name, last_name, email."""
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"roster {path} has no rows")
    key = next((k for k in ("id", "student_id", "username") if k in rows[0]), None)
    if key is None:
        raise ValueError(f"roster {path} needs an id column (id, student_id or username); "
                         f"it has {', '.join(rows[0])}")
    return {row[key].strip(): {f: (row.get(f) or "").strip() or None
                               for f in ("first_name", "last_name", "email")} for row in rows}


def apply_roster(db_path, course_id, roster):
    """Give the gradebook's students their names (formgrader lists "last, first").

    roster: {student id: {first_name, last_name, email}} (read_roster). What nbgrader's
    update_or_create_student(id, **fields) does for each (a new student with those fields; an
    existing one gets each given field set, blanks included), in one query and one
    transaction instead of a commit per student."""
    from nbgrader import api
    from sqlalchemy import select
    ST = api.Student.__table__
    columns = ("first_name", "last_name", "email")
    with _open(db_path, course_id) as gb:
        conn = gb.db.connection()
        known = {row[0]: dict(zip(columns, row[1:]))
                 for row in conn.execute(select(ST.c.id, *(ST.c[c] for c in columns)))}
        new, changed = [], []
        for student_id, fields in roster.items():
            if student_id not in known:
                new.append({"id": student_id, **{c: fields.get(c) for c in columns}})
                continue
            wanted = {c: fields.get(c, known[student_id][c]) for c in columns}
            if wanted != known[student_id]:
                changed.append({"_id": student_id, **wanted})
        _write(gb, conn, {ST: new}, {ST: changed})


# ----------------------------------------------------------------------------- formgrader's view

def publish_for_formgrader(db_path, course_id, work_dir, folder, found, results, sources,
                           release_root=None):
    """Timestamps, released assignments and the graded notebooks formgrader displays."""
    work_dir = Path(work_dir)
    if release_root is not None:
        mirror_release(work_dir, course_id, release_root)
    stamps = {}
    for sub in found:
        origin = Path(folder) / sub.origin
        when = origin.stat().st_mtime if origin.is_file() else None
        stamps[(sub.student, sub.assignment)] = max(when or 0, stamps.get((sub.student, sub.assignment), 0))
    from nbgrader import api
    from nbgrader.api import MissingEntry
    from sqlalchemy import select
    A, SA = api.Assignment.__table__, api.SubmittedAssignment.__table__
    with _open(db_path, course_id) as gb:
        conn = gb.db.connection()
        submissions = {}   # (student, assignment) -> [submission id, timestamp]
        for ids in _chunks(dict.fromkeys(student for student, _ in stamps)):
            for subid, student, name, timestamp in conn.execute(
                    select(SA.c.id, SA.c.student_id, A.c.name, SA.c.timestamp)
                    .join(A, A.c.id == SA.c.assignment_id).where(SA.c.student_id.in_(ids))):
                submissions[(student, name)] = [subid, timestamp]
        changed = {}
        for (student, assignment), when in stamps.items():
            stamp = datetime.datetime.fromtimestamp(when or datetime.datetime.now().timestamp(),
                                                    datetime.timezone.utc)
            if (student, assignment) not in submissions:
                raise MissingEntry(f"No such submission: {assignment} for {student}")
            row = submissions[(student, assignment)]
            if row[1] != stamp.replace(tzinfo=None):
                row[1] = changed[row[0]] = stamp.replace(tzinfo=None)
            (work_dir / "submitted" / student / assignment / "timestamp.txt").write_text(
                stamp.strftime(TIMESTAMP_FORMAT))
        _write(gb, conn, {}, {SA: [{"_id": subid, "timestamp": when}
                                   for subid, when in changed.items()]})
    for result in results:
        nb = graded_notebook(sources[(result.assignment, result.notebook)], result,
                             (work_dir / "submitted" / result.student / result.assignment /
                              f"{result.notebook}.ipynb").read_text())
        path = work_dir / "autograded" / result.student / result.assignment / f"{result.notebook}.ipynb"
        path.write_text(json.dumps(nb, indent=1))


def mirror_release(work_dir, course_id, release_root):
    """Copy each notebooks/<assignment> to the work folder's exchange (nbgrader_config.py's
    Exchange.root), where formgrader looks to call an assignment released."""
    import shutil
    for release in sorted((Path(release_root) / "notebooks").glob("*/*.ipynb")):
        target = Path(work_dir) / "exchange" / course_id / "outbound" / release.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(release, target / release.name)


def _copy_json(value):
    """copy.deepcopy for notebook JSON, several times cheaper: plain dicts and lists are copied
    (each occurrence on its own), strings and numbers shared; anything else is deep-copied."""
    kind = type(value)
    if kind is dict:
        return {k: _copy_json(v) for k, v in value.items()}
    if kind is list:
        return [_copy_json(v) for v in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def _message_output(status, message):
    text = f"[{status}] {message}".rstrip() + "\n"
    return {"output_type": "stream", "name": "stderr" if status != "passed" else "stdout",
            "text": text}


def graded_notebook(source, result, submission_text):
    """The notebook that was graded, for formgrader and the feedback page.

    The student's cells in the student's order; every source cell with a grade_id comes from
    the source (test cells restored when deleted or edited, each showing the grader's message
    as its output; answer cells keep the student's text under the source's metadata). A
    submission that could not be read becomes the source's skeleton without answers under a
    banner saying why, so formgrader shows it as what it is instead of failing.
    """
    from .grader import UngradableSubmission, parse_submission
    try:
        submission, reason = parse_submission(submission_text), ""
    except UngradableSubmission as exc:
        submission, reason = None, str(exc)
    source_index = {grade_id(c): i for i, c in enumerate(source["cells"]) if grade_id(c)}
    placed = []  # (index of the matching source cell or None, cell)
    for cell in (submission or {}).get("cells", []):
        gid = grade_id(cell)
        if gid in source_index:
            placed.append((source_index[gid], _graded_cell(source["cells"][source_index[gid]], cell, result)))
        elif not gid:
            placed.append((None, _copy_json(cell)))  # experiments and cells the student added
    present = {i for i, _ in placed if i is not None}
    for i, cell in enumerate(source["cells"]):
        if grade_id(cell) and i not in present:
            after = max((k for k, (j, _) in enumerate(placed) if j is not None and j < i), default=-1)
            placed.insert(after + 1, (i, _graded_cell(cell, None, result)))
    cells = [cell for _, cell in placed]
    if submission is None or not result.graded:
        cells.insert(0, {"cell_type": "markdown", "metadata": {}, "id": "course-not-graded",
                         "source": tr("**This submission could not be graded:** {reason}",
                                      reason=result.error or reason)})
    # (the submission's own cells are not copied again: `cells` replaces them)
    nb = {k: (None if k == "cells" else _copy_json(v)) for k, v in submission.items()} if submission \
        else {"metadata": source.get("metadata", {})}
    nb.update(cells=cells, nbformat=4, nbformat_minor=max(5, nb.get("nbformat_minor", 5)))
    nb.setdefault("metadata", {})
    for k, cell in enumerate(nb["cells"]):
        cell.setdefault("id", f"cell-{k}")
    return nb


def _graded_cell(source_cell, student_cell, result):
    """One cell of the graded notebook (see graded_notebook)."""
    meta = source_cell.get("metadata", {}).get("nbgrader", {})
    if cell_role(source_cell) == "tests":
        cell = _copy_json(source_cell)
        graded = next((c for c in result.cells if c.grade_id == meta.get("grade_id")), None)
        cell["outputs"] = [_message_output(graded.status, graded.message or
                                           tr("{points:g} / {max_points:g} points",
                                              points=graded.points, max_points=graded.max_points))] \
            if graded else []
        cell["execution_count"] = None
        return cell
    if meta.get("solution"):
        if student_cell is None:  # deleted by the student: never show the solution instead
            student_cell = dict(_copy_json(source_cell), source="", outputs=[])
        return _with_source_metadata(student_cell, source_cell)
    cell = _copy_json(source_cell)  # locked text and set-up: the source's, the student's outputs
    if cell["cell_type"] == "code":
        cell["outputs"] = _copy_json((student_cell or {}).get("outputs", []))
        cell["execution_count"] = (student_cell or {}).get("execution_count")
    return cell


def _with_source_metadata(student_cell, source_cell):
    """The student's cell, with the source's nbgrader metadata (points and ids are the source's)."""
    cell = _copy_json(student_cell)
    cell.setdefault("metadata", {})["nbgrader"] = _copy_json(source_cell["metadata"]["nbgrader"])
    cell["cell_type"] = source_cell["cell_type"]
    if cell["cell_type"] == "markdown":
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    else:
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
    return cell


# ----------------------------------------------------------------------------- reading back

@dataclass
class CellGrade:
    """One graded cell as the gradebook has it (automatic and manual parts, comments)."""
    grade_id: str
    cell_type: str            # code: a test cell; markdown: a written answer
    max_score: float
    auto_score: float = None
    manual_score: float = None
    needs_manual_grade: bool = False
    comment: str = ""
    extra_credit: float = 0.0

    @property
    def score(self):
        """nbgrader's rule: a manual score overrides the automatic one; extra credit adds."""
        base = self.manual_score if self.manual_score is not None else (self.auto_score or 0.0)
        return base + self.extra_credit

    @property
    def written(self):
        return self.cell_type == "markdown"


@dataclass
class NotebookGrades:
    student: str
    assignment: str
    notebook: str
    cells: dict = field(default_factory=dict)    # grade_id -> CellGrade
    timestamp: str = ""

    @property
    def automatic(self):
        return sum(c.score for c in self.cells.values() if not c.written)

    @property
    def manual(self):
        return sum(c.score for c in self.cells.values() if c.written)

    @property
    def total(self):
        return self.automatic + self.manual

    @property
    def ungraded_written(self):
        return [c.grade_id for c in self.cells.values() if c.written and c.manual_score is None]


def read_grades(db_path, course_id):
    """{(student, assignment, notebook): NotebookGrades} for every submission in the gradebook."""
    out = {}
    if not Path(db_path).exists():
        return out
    with _open(db_path, course_id) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for nb in submission.notebooks:
                    grades = NotebookGrades(submission.student.id, assignment.name, nb.name,
                                            timestamp=str(submission.timestamp or ""))
                    comments = {c.cell.name: (c.manual_comment or "") for c in nb.comments}
                    for g in nb.grades:
                        grades.cells[g.cell.name] = CellGrade(
                            g.cell.name, g.cell.cell_type, float(g.max_score or 0), g.auto_score,
                            g.manual_score, bool(g.needs_manual_grade), comments.get(g.cell.name, ""),
                            float(g.extra_credit or 0))
                    out[(grades.student, assignment.name, nb.name)] = grades
    return out
