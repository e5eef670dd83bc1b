"""Messages in the student's language: every English template has a Korean entry, a Korean
check message comes out in Korean, and the default language leaves the English untouched."""
import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from cs231n_lib import grading, i18n
from cs231n_lib.gradient_check import rel_error
from cs231n_lib.i18n import tr

LIBRARY = Path(i18n.__file__).resolve().parent
HANGUL = re.compile(r"[\uac00-\ud7a3]")
FIELDS = re.compile(r"\{(\w*)[^{}]*\}")


def code_templates():
    """Every string literal passed to tr() or N_() in cs231n_lib (implicitly joined literals
    are one Constant in the ast)."""
    found = {}
    for path in sorted(LIBRARY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("tr", "N_") and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.relative_to(LIBRARY)}:{node.lineno}")
    return found


def course_notebooks():
    """The notebooks of the course's registries (cs231n_lib/exercises/nbNN_*.py)."""
    import importlib
    import pkgutil
    from cs231n_lib import exercises
    modules = [importlib.import_module(f"cs231n_lib.exercises.{info.name}")
               for info in pkgutil.iter_modules(exercises.__path__)]
    return {m.NOTEBOOK for m in modules if hasattr(m, "NOTEBOOK")}


def registry_templates():
    """Every Mistake label and explanation and every Habit hint (or its template and phrases)
    of the exercise registries, plus the known-mistake tables that custom checks use."""
    from cs231n_lib.exercises import nb03_monitoring
    grading._load_all()
    found = {}
    for name, exercise in grading._REGISTRY.items():
        if exercise.notebook not in course_notebooks():
            continue   # a test's own exercises (tests/fixture_course.py)
        for mistake in exercise.mistakes:
            found.setdefault(mistake.label, f"{name}: mistake label")
            found.setdefault(mistake.explanation, f"{name}: {mistake.label}")
        for habit in exercise.habits:
            for text in [habit.template or habit.hint, *habit.phrases.values()]:
                found.setdefault(text, f"{name}: habit")
    for table in (nb03_monitoring._DIAGNOSIS_MISTAKES, nb03_monitoring.ABORT_MISTAKES):
        for label, explanation in table.items():
            found.setdefault(label, "nb03_monitoring: mistake label")
            found.setdefault(explanation, f"nb03_monitoring: {label}")
    return found


def all_templates():
    return {**registry_templates(), **code_templates()}


@pytest.fixture
def korean():
    with i18n.language("ko"):
        yield


def test_the_scan_finds_the_wrapped_messages():
    # The coverage test below is only as good as this scan: it must see the known templates.
    templates = code_templates()
    for expected in ("{names} is not implemented yet", "Known mistake: {label}. {explanation}",
                     "its keys", "# Feedback: {assignment} / {notebook}",
                     "Using your {names} (its visible check passes)."):
        assert expected in templates
    assert len(registry_templates()) > 200


def test_every_template_has_a_korean_entry():
    catalogue = i18n.catalogue("ko")
    missing = [f"{where}: {text!r}" for text, where in all_templates().items()
               if text not in catalogue]
    assert not missing, (f"{len(missing)} message(s) lack a Korean entry in "
                         "cs231n_lib/locale/ko.json:\n" + "\n".join(missing[:40]))


def test_korean_entries_are_korean_and_keep_the_placeholders():
    catalogue = i18n.catalogue("ko")
    for english, korean in catalogue.items():
        assert HANGUL.search(korean), f"not Korean: {korean!r}"
        assert sorted(FIELDS.findall(english)) == sorted(FIELDS.findall(korean)), (
            f"placeholders differ:\n  {english!r}\n  {korean!r}")


def test_no_stale_entries():
    unused = set(i18n.catalogue("ko")) - set(all_templates())
    assert not unused, f"entries no message uses any more: {sorted(unused)[:20]}"


def wrong_rel_error(x, y):
    return float(np.max(np.abs(x - y)))


def test_english_check_message_is_unchanged_by_default():
    assert i18n.get_language() == "en"
    with pytest.raises(grading.CheckFailure) as info:
        grading.check("rel_error", wrong_rel_error)
    message = str(info.value)
    assert "differs from the reference: max relative error" in message
    assert "\n  returned output = " in message
    assert not HANGUL.search(message)


def test_korean_check_message(korean):
    with pytest.raises(grading.CheckFailure) as info:
        grading.check("rel_error", wrong_rel_error)
    message = str(info.value)
    assert HANGUL.search(message)
    assert "differs from the reference" not in message
    assert "rel_error(" in message          # the call and the values stay as they are


def test_korean_known_mistake_and_stub(korean):
    exercise = grading.get_exercise("rel_error")
    mistake = exercise.mistakes[0]
    with pytest.raises(grading.CheckFailure) as info:
        grading.check("rel_error", mistake.implementation)
    message = str(info.value)
    assert i18n.catalogue("ko")[mistake.label] in message
    assert mistake.label not in message

    def rel_error(x, y):
        raise NotImplementedError
    with pytest.raises(grading.NotImplementedYet, match="rel_error") as stub:
        grading.check("rel_error", rel_error)
    assert HANGUL.search(str(stub.value))


def test_language_block_restores_english():
    with i18n.language("ko"):
        assert HANGUL.search(tr("{names} is not implemented yet", names="f"))
    assert tr("{names} is not implemented yet", names="f") == "f is not implemented yet"


def test_reference_use_stays_recognizable_in_korean():
    # grader._grade_cells finds a use of the reference by these words in any language.
    from cs231n_lib import boundary
    with i18n.language("ko"):
        message = boundary.translated_reference_used(
            boundary.REFERENCE_USED.format(module="cs231n_lib.layers", name="affine_backward"))
    assert HANGUL.search(message) and "reference implementation" in message
    assert "cs231n_lib.layers.affine_backward" in message


def test_language_blocks_are_per_thread():
    # Dask may grade an English and a Korean submission in two threads of one process.
    import threading
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def korean():
        with i18n.language("ko"):
            entered.set()
            release.wait(5)
            seen["ko"] = tr("not graded")

    thread = threading.Thread(target=korean)
    thread.start()
    entered.wait(5)
    seen["en"] = tr("not graded")     # this thread, while the other is inside its block
    release.set()
    thread.join()
    assert seen == {"en": "not graded", "ko": i18n.catalogue("ko")["not graded"]}


@pytest.mark.parametrize("name", ["en", "ko"])
def test_returned_and_expected_values_line_up_in_every_language(name):
    with i18n.language(name):
        lines = grading.show_values("dx", np.zeros((2, 9)), np.ones((2, 9)), (1, 4)).splitlines()
    assert len(lines) == 2 and lines[0].index(" = ") == lines[1].index(" = ")
