"""Grading is language-blind, feedback speaks the submission's language: the same answers
handed in as the English notebook and as its Korean edition (`<stem>.ko.ipynb`) earn the same
points, and the Korean student's feedback page and check messages are in Korean
(fixture course, graded through `course grade` and `course feedback`)."""
import json
import re

import pytest

from cs231n_lib.course import cli, grader, pipeline, variants
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
