"""Translated editions: generated from the English release, never stale, code untouched."""
import json
import re

import pytest

from cs231n_lib.course import paths, translations
from cs231n_lib.course.variants import grade_id, source_text

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _cell(cid, cell_type, text, role=None, locked=False):
    meta = {"course": {"role": role or ("markdown" if cell_type == "markdown" else "code")}}
    if locked:
        meta["nbgrader"] = {"grade_id": cid, "locked": True, "checksum": "x", "solution": False,
                            "grade": False, "cell_type": cell_type, "schema_version": 3}
    cell = {"id": cid, "cell_type": cell_type, "metadata": meta, "source": text}
    if cell_type == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _notebook():
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        _cell("md-01", "markdown", "# Gradient checking\n\nCompare two gradients.", locked=True),
        _cell("setup", "code", "import numpy as np\nfrom cs231n_lib.grading import check\n"),
        _cell("answer", "code", 'def f(x):\n    """Double x."""\n    # your code here\n'
                                "    raise NotImplementedError\n", role="answer"),
        _cell("md-02", "markdown", "$$f(x)$$"),   # no words: needs no translation
    ]}


def _entries(nb, texts):
    cells = {c["id"]: c for c in nb["cells"]}
    return {cid: {"source_sha": translations.source_sha(source_text(cells[cid])), "text": text}
            for cid, text in texts.items()}


KOREAN = {
    "md-01": "# 그래디언트 확인(gradient check)\n\n두 그래디언트를 비교합니다.",
    "setup": "import numpy as np\nfrom cs231n_lib.grading import check\n"
             "from cs231n_lib.i18n import set_language\nset_language('ko')  # 메시지를 한국어로\n",
    "answer": 'def f(x):\n    """x를 두 배로 만듭니다."""\n    # 여기에 코드를 작성하세요\n'
              "    raise NotImplementedError\n",
}


def test_a_complete_translation_makes_an_edition_with_the_same_code():
    nb = _notebook()
    status = translations.check(nb, _entries(nb, KOREAN), "demo")
    assert status.ok, status.describe()
    edition = translations.translate(nb, _entries(nb, KOREAN), "ko")
    assert [c["id"] for c in edition["cells"]] == [c["id"] for c in nb["cells"]]
    assert edition["cells"][0]["source"].startswith("# 그래디언트 확인")
    assert edition["cells"][0]["metadata"]["nbgrader"]["checksum"] != "x"  # recomputed
    assert edition["metadata"]["course"]["language"] == "ko"
    assert nb["cells"][0]["source"].startswith("# Gradient")  # the English is untouched


@pytest.mark.parametrize("cid, problem", [("md-01", "missing"), ("answer", "missing")])
def test_an_untranslated_prose_cell_or_stub_is_missing(cid, problem):
    nb = _notebook()
    texts = dict(KOREAN)
    del texts[cid]
    status = translations.check(nb, _entries(nb, texts), "demo")
    assert getattr(status, problem) == [cid] and not status.ok


def test_a_template_entry_still_in_english_counts_as_missing():
    nb = _notebook()
    entries = translations.template(nb, _entries(nb, {"md-01": KOREAN["md-01"]}))
    assert entries["md-01"]["text"].startswith("# 그래디언트")   # current entries are kept
    assert entries["answer"]["todo"] and "Double x" in entries["answer"]["text"]
    assert translations.check(nb, entries, "demo").missing == ["answer"]


def test_an_english_edit_makes_the_translation_stale():
    nb = _notebook()
    entries = _entries(nb, KOREAN)
    nb["cells"][0]["source"] += " Then fix the bug."
    status = translations.check(nb, entries, "demo")
    assert status.stale == ["md-01"] and not status.ok
    assert "stale" in status.describe() and "md-01" in status.describe()


@pytest.mark.parametrize("changed", [
    'def f(x):\n    """x를 두 배로."""\n    return 2 * x\n',              # a solution sneaks in
    "import numpy as np\nfrom cs231n_lib.grading import check\nimport os\n",  # an extra import
    "import numpy as np\nfrom cs231n_lib.grading import check\nprint('안녕')\n",
])
def test_a_translation_that_changes_code_is_refused(changed):
    nb = _notebook()
    cid = "answer" if changed.startswith("def") else "setup"
    entries = _entries(nb, {**KOREAN, cid: changed})
    assert translations.check(nb, entries, "demo").broken == [cid]


def test_write_edition_refuses_a_stale_translation_and_writes_nothing(tmp_path):
    nb = _notebook()
    (tmp_path / "solutions").mkdir()
    release = tmp_path / "topic.ipynb"
    release.write_text(json.dumps(nb))
    solution = tmp_path / "solutions" / "topic.ipynb"
    entries = _entries(nb, KOREAN)
    entries["md-01"]["source_sha"] = "0" * 64
    translations.translation_path(solution, "ko").write_text(json.dumps({"cells": entries}))
    with pytest.raises(translations.TranslationError, match="stale.*md-01"):
        translations.write_edition(release, solution, "ko")
    assert not (tmp_path / "topic.ko.ipynb").exists()


def test_a_malformed_translation_file_gets_a_one_line_error(tmp_path):
    path = tmp_path / "topic.ko.json"
    path.write_text("{not json")
    with pytest.raises(translations.TranslationError, match="not valid JSON"):
        translations.load(path)
    path.write_text(json.dumps({"cells": {"md-01": "just text"}}))
    with pytest.raises(translations.TranslationError, match="expected"):
        translations.load(path)


# ----------------------------------------------------------------------------- the course's editions

def _editions():
    return sorted(paths.NOTEBOOKS.glob("*/*.ko.ipynb"))


def _english_releases():
    return sorted(p for p in paths.NOTEBOOKS.glob("*/*.ipynb") if p.suffixes == [".ipynb"])


def test_every_english_release_has_a_korean_twin():
    missing = [str(p.relative_to(paths.ROOT)) for p in _english_releases()
               if not translations.edition_path(p, "ko").exists()]
    assert not missing, f"no Korean edition for {missing}: translate (course translations --template)"


@pytest.mark.parametrize("edition", _editions(), ids=lambda p: p.parent.name)
def test_korean_edition_has_the_same_cells_code_and_grade_ids(edition):
    english = json.loads(edition.with_name(edition.name.replace(".ko.", ".")).read_text())
    korean = json.loads(edition.read_text())
    assert [c["id"] for c in korean["cells"]] == [c["id"] for c in english["cells"]]
    assert [grade_id(c) for c in korean["cells"]] == [grade_id(c) for c in english["cells"]]
    for en, ko in zip(english["cells"], korean["cells"]):
        assert en["metadata"].get("nbgrader", {}).get("points") == \
            ko["metadata"].get("nbgrader", {}).get("points")
        if en["cell_type"] == "code":
            assert translations.same_code(source_text(en), source_text(ko)), en["id"]


@pytest.mark.parametrize("edition", _editions(), ids=lambda p: p.parent.name)
def test_korean_edition_prose_is_korean(edition):
    prose = [c for c in json.loads(edition.read_text())["cells"]
             if c["cell_type"] == "markdown" and translations.needs_translation(c)]
    korean = [c for c in prose if HANGUL.search(source_text(c))]
    assert len(korean) >= 0.95 * len(prose), f"{len(korean)}/{len(prose)} prose cells in Korean"


@pytest.mark.parametrize("edition", _editions(), ids=lambda p: p.parent.name)
def test_korean_edition_selects_korean_messages(edition):
    setup = [source_text(c) for c in json.loads(edition.read_text())["cells"]
             if c["metadata"].get("course", {}).get("role") == "setup"]
    assert any('set_language("ko")' in s or "set_language('ko')" in s for s in setup)


def test_a_korean_submission_is_matched_to_the_english_assignment(tmp_path):
    from cs231n_lib.course import submissions
    catalog = submissions.Catalog({("01_gradient_checking", "gradient_checking"): {"rel_error"}})
    korean = json.dumps({"cells": [], "metadata": {"course": {"language": "ko"}}})
    (tmp_path / "alice" / "01_gradient_checking").mkdir(parents=True)
    (tmp_path / "alice" / "01_gradient_checking" / "gradient_checking.ko.ipynb").write_text(korean)
    (tmp_path / "bob_gradient_checking.ko-1.ipynb").write_text(korean)
    (tmp_path / "carol_gradient_checking.ipynb").write_text(json.dumps({"cells": []}))
    found, unmatched = submissions.discover(tmp_path, catalog)
    assert not unmatched
    got = {(s.student, s.assignment, s.notebook, s.language) for s in found}
    assert got == {("alice", "01_gradient_checking", "gradient_checking", "ko"),
                   ("bob", "01_gradient_checking", "gradient_checking", "ko"),
                   ("carol", "01_gradient_checking", "gradient_checking", "en")}


def test_messages_follow_the_chosen_language():
    from cs231n_lib import i18n
    i18n.catalogue.cache_clear()
    assert i18n.tr("{name} is not implemented yet", name="f") == "f is not implemented yet"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.set_language("fr")
