"""Grading is language-blind, feedback speaks the submission's language: the same answers
handed in as the English notebook and as its Korean edition (`<stem>.ko.ipynb`) earn the same
points, and the Korean student's feedback page and check messages are in Korean
(fixture course, graded through `course grade` and `course feedback`)."""
import copy
import json
import re

import pytest

from cs231n_lib import grading
from cs231n_lib.course import batch, cli, grader, paths, pipeline, variants
from fixture_course import ASSIGNMENT, NOTEBOOK, build_course

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# rel_error with a known mistake (absolute error): a failed check with a message to translate
WRONG_REL_ERROR = "def rel_error(a, b):\n    return float(np.max(np.abs(a - b)))"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """eve hands in the English notebook, min the Korean edition, with the same answers."""
    root = tmp_path_factory.mktemp("ko")
    source = build_course(root)
    answers = variants.with_answer(variants.without_outputs(source), "rel_error", WRONG_REL_ERROR)
    folder = root / "class"
    for student, name in (("eve", f"{NOTEBOOK}.ipynb"), ("min", f"{NOTEBOOK}.ko.ipynb")):
        path = folder / student / ASSIGNMENT / name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(answers))
    work = root / "work"
    assert cli.main(["grade", str(folder), "--work-dir", str(work), "--course-root", str(root),
                     "--exercise-module", "fixture_course", "--timeout", "10", "--quiet"]) == 0
    results = {}
    for path in work.rglob("*.grading.json"):
        result = grader.NotebookResult.from_dict(json.loads(path.read_text()))
        results[result.student] = result
    out = root / "feedback"
    pipeline.write_all_feedback(work, root=root, out_dir=out)
    pages = {s: (out / s / ASSIGNMENT / f"{NOTEBOOK}.html").read_text() for s in ("eve", "min")}
    return results, pages


def test_the_korean_submission_is_matched_and_scored_like_the_english_one(graded):
    results, _ = graded
    eve, kim = results["eve"], results["min"]
    assert (eve.language, kim.language) == ("en", "ko")
    assert (kim.assignment, kim.notebook) == (eve.assignment, eve.notebook)
    assert [(c.grade_id, c.points, c.status) for c in kim.cells] == \
        [(c.grade_id, c.points, c.status) for c in eve.cells]
    assert kim.score == eve.score < eve.max_score     # rel_error lost its points in both


def test_check_messages_are_in_the_submissions_language(graded):
    results, _ = graded
    english = {c.grade_id: c.message for c in results["eve"].cells}
    korean = {c.grade_id: c.message for c in results["min"].cells}
    assert "differs from the reference" in english["test_rel_error"]
    assert "Known mistake: absolute error" in english["test_rel_error"]
    assert not HANGUL.search(english["test_rel_error"])
    assert "참조 구현과 다릅니다" in korean["test_rel_error"]
    assert "알려진 실수: absolute error" in korean["test_rel_error"]   # fixture labels: English
    assert korean["why"] == "교수자가 채점합니다" and english["why"] == "graded by the instructor"


def test_feedback_page_is_in_the_submissions_language(graded):
    _, pages = graded
    english, korean = pages["eve"], pages["min"]
    assert "Feedback: " in english and "graded cell" in english and "points" in english
    assert not HANGUL.search(english)
    assert '<html lang="ko">' in korean and '<html lang="en">' in english
    for words in ("피드백: ", "채점 셀", "자동 채점 점수", "아직 채점되지 않음", "실패", "통과",
                  "참조 구현과 다릅니다"):
        assert words in korean, words
    assert "Feedback: " not in korean and "graded by your instructor" not in korean
    # the same score on both pages
    total = re.compile(r"total <strong>([\d.]+) / ([\d.]+)</strong>")
    korean_total = re.compile(r"합계 <strong>([\d.]+) / ([\d.]+)</strong>")
    assert total.search(english).groups() == korean_total.search(korean).groups()


# ----------------------------------------------------------------------------- real notebooks

def _sources():
    return pipeline.load_sources()


def _korean_release(assignment, stem):
    """The Korean release; before it exists, the English one marked as the Korean edition
    (so the language path is tested now and the translated cells once they are released)."""
    path = paths.NOTEBOOKS / assignment / f"{stem}.ko.ipynb"
    if path.exists():
        return json.loads(path.read_text())
    nb = json.loads((paths.NOTEBOOKS / assignment / f"{stem}.ipynb").read_text())
    nb.setdefault("metadata", {}).setdefault("course", {})["language"] = "ko"
    return nb


def _demo_students(source, release, assignment):
    """The demo's ada (correct), ben (a known mistake in every exercise) and cy (untouched),
    written into `release`'s cells: the solution's answers by grade_id."""
    ada = variants.without_outputs(release)
    for cell in source["cells"]:
        if variants.cell_role(cell) == "answer":
            ada = variants.with_answer(ada, variants.grade_id(cell), variants.source_text(cell))
    ben = copy.deepcopy(ada)
    for name in grading.exercise_names(notebook=assignment):
        exercise = grading.get_exercise(name)
        if exercise.mistakes:
            variants.plant_mistake(ben, exercise, exercise.mistakes[0])
    return {"ada": ada, "ben": ben, "cy": variants.without_outputs(release)}


@pytest.mark.slow
@pytest.mark.parametrize("assignment,stem", sorted(_sources()))
def test_demo_students_score_the_same_in_the_korean_edition(assignment, stem, tmp_path):
    source = _sources()[(assignment, stem)]
    english = json.loads((paths.NOTEBOOKS / assignment / f"{stem}.ipynb").read_text())
    folder = tmp_path / "class"
    for suffix, release in (("", english), (".ko", _korean_release(assignment, stem))):
        for student, nb in _demo_students(source, release, assignment).items():
            path = folder / f"{student}{suffix.replace('.', '-')}" / assignment / f"{stem}{suffix}.ipynb"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(nb))
    report = pipeline.grade_folder(folder, tmp_path / "work", names=[assignment], jobs=1,
                                   limits=batch.task_limits(30, 4, 64))
    assert not report.unmatched and not report.ungraded
    results = {r.student: r for r in report.results}
    for student in ("ada", "ben", "cy"):
        en, ko = results[student], results[f"{student}-ko"]
        assert (en.language, ko.language, ko.notebook) == ("en", "ko", stem)
        assert _verdicts(ko) == _verdicts(en), student
    assert results["cy"].score == 0 < results["ada"].score   # (the demo test checks ada's score)
    # ben's known mistakes are named in Korean (the catalogue covers every registry label)
    en_messages = _failed_messages(results["ben"])
    ko_messages = _failed_messages(results["ben-ko"])
    assert en_messages and set(en_messages) == set(ko_messages)
    for gid, message in en_messages.items():
        assert ("Known mistake:" in message) == ("알려진 실수:" in ko_messages[gid]), gid
        assert HANGUL.search(ko_messages[gid]) and not HANGUL.search(message), gid



def _timed_cells():
    """Test cells of exercises that train within a wall-clock budget (notebook 09's recipe):
    their accuracy depends on how busy the machine is, not on the language."""
    from cs231n_lib.exercises import nb09_babysitting
    return {grading.get_exercise(name).test_cell for name in nb09_babysitting.THRESHOLDS}


def _verdicts(result):
    timed = _timed_cells()
    return [(c.grade_id, c.points, c.status) for c in result.cells if c.grade_id not in timed]


def _failed_messages(result):
    timed = _timed_cells()
    return {c.grade_id: c.message for c in result.cells
            if c.status == "failed" and c.grade_id not in timed}


def test_korean_feedback_quotes_the_korean_release(graded, tmp_path):
    """The locked and test cells of a Korean student's page come from the Korean release (by
    cell id); the English student's page and both scores stay as they were."""
    from cs231n_lib.course import feedback
    results, _ = graded
    source = build_course(tmp_path)
    korean = copy.deepcopy(source)
    marked = {}
    for cell in korean["cells"]:
        role = variants.cell_role(cell)
        if role in ("tests", "setup"):
            cell["source"] = f"# 한국어판 {variants.grade_id(cell)} 셀\n" + variants.source_text(cell)
            marked[variants.grade_id(cell)] = cell["source"].splitlines()[0]
    assert any(gid.startswith("test_") for gid in marked)
    (tmp_path / "notebooks" / ASSIGNMENT / f"{NOTEBOOK}.ko.ipynb").write_text(json.dumps(korean))
    text = json.dumps(variants.with_answer(variants.without_outputs(source), "rel_error",
                                           WRONG_REL_ERROR))
    pages = {}
    for student in ("eve", "min"):
        result = results[student]
        shown = feedback.edition_source(source, result, tmp_path)
        nb = feedback.feedback_notebook(shown, result, text)
        pages[student] = "\n".join(c["source"] for c in nb["cells"])
    for gid, line in marked.items():
        assert line in pages["min"], gid
        assert line not in pages["eve"], gid
    assert "### BEGIN HIDDEN TESTS" not in pages["min"]
    assert source == build_course(tmp_path / "again")      # the source itself is untouched
    # answer cells stay the student's, not the release's
    assert "np.max(np.abs(a - b))" in pages["min"]


def test_feedback_without_a_korean_release_keeps_the_source(graded, tmp_path):
    from cs231n_lib.course import feedback
    results, _ = graded
    source = build_course(tmp_path)
    assert feedback.edition_source(source, results["min"], tmp_path) is source
