"""Other-language editions of the release (Korean first), generated from the English source.

The English solution notebook stays the only source of code. A translation lives beside it,
``solutions/NN_topic/<stem>.<lang>.json``, keyed by cell id::

    {"language": "ko",
     "cells": {"md-01": {"source_sha": "<sha256 of the English release cell>",
                         "text": "<the cell in Korean>"}}}

`source_sha` records which English text was translated, so an English edit makes the entry
stale instead of silently wrong. Prose cells (markdown with words) and the stubs of answer cells
must be translated; any code cell may be, as long as its code is unchanged: only comments,
docstrings and one `set_language(...)` line may differ (checked with `ast`, see `same_code`).
`course release` writes ``notebooks/NN_topic/<stem>.<lang>.ipynb`` beside the English release.
"""
import ast
import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .variants import cell_role, source_text

LANGUAGES = ("ko",)
_WORDS = re.compile(r"[A-Za-z]{2,}")


class TranslationError(ValueError):
    """A translation file is unreadable, stale, incomplete or changes the code."""


def source_sha(text):
    """The fingerprint stored with a translation: sha256 of the English cell text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def translation_path(solution_path, language):
    solution_path = Path(solution_path)
    return solution_path.with_name(f"{solution_path.stem}.{language}.json")


def edition_path(release_path, language):
    release_path = Path(release_path)
    return release_path.with_name(f"{release_path.stem}.{language}.ipynb")


def needs_translation(cell):
    """Cells a reader must get in their language: prose, and the stubs they complete."""
    text = source_text(cell)
    if cell["cell_type"] == "markdown":
        return bool(_WORDS.search(text))
    return cell_role(cell) == "answer" and ('"""' in text or "#" in text)


def load(path):
    """The translation file's {cell id: entry} dict; TranslationError when it is malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranslationError(f"{path} is missing: translate the notebook or drop the edition")
    except ValueError as exc:
        raise TranslationError(f"{path} is not valid JSON ({exc}); fix it with a JSON editor")
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("text"), str) and isinstance(
                e.get("source_sha"), str) for e in cells.values()):
        raise TranslationError(f"{path}: expected {{'cells': {{cell id: {{'source_sha': ..., "
                               "'text': ...}}}}}}")
    return cells


# ----------------------------------------------------------------------------- code identity

def _strip_docstrings(tree):
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            body[0] = ast.Expr(ast.Constant("<docstring>"))
    return tree


def _is_language_line(node):
    """`set_language("ko")`, `grading.set_language("ko")` or its import: allowed extras."""
    if isinstance(node, ast.ImportFrom):
        return [a.name for a in node.names] == ["set_language"]
    call = getattr(node, "value", None) if isinstance(node, ast.Expr) else None
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "set_language"


def code_skeleton(text):
    """The code of a cell without comments, docstrings and language lines (ast dump)."""
    text = re.sub(r"^\s*[%!].*$", "pass", text, flags=re.M)  # IPython magics are not Python
    tree = _strip_docstrings(ast.parse(text))
    tree.body = [node for node in tree.body if not _is_language_line(node)]
    return ast.dump(tree)


def same_code(english, translated):
    """True when the two cell texts differ only in comments, docstrings and language lines."""
    try:
        return code_skeleton(english) == code_skeleton(translated)
    except SyntaxError:
        return False


# ----------------------------------------------------------------------------- editions

@dataclass
class Status:
    """How complete one notebook's translation is."""
    notebook: str
    missing: list = field(default_factory=list)   # cell ids with no entry
    stale: list = field(default_factory=list)     # entries for an older English text
    broken: list = field(default_factory=list)    # code cells whose code was changed
    unknown: list = field(default_factory=list)   # entries for cells that no longer exist

    @property
    def ok(self):
        return not (self.missing or self.stale or self.broken)

    def describe(self):
        parts = [f"{label} {', '.join(ids)}" for label, ids in (
            ("missing:", self.missing), ("stale (English changed since):", self.stale),
            ("code changed:", self.broken), ("no such cell:", self.unknown)) if ids]
        return f"{self.notebook}: " + ("; ".join(parts) if parts else "complete")


def check(release_nb, entries, name):
    """Compare a translation with the English release notebook it translates."""
    status = Status(name)
    ids = set()
    for cell in release_nb["cells"]:
        cid = cell.get("id")
        ids.add(cid)
        entry = entries.get(cid)
        english = source_text(cell)
        if entry is None or entry.get("todo"):
            if needs_translation(cell) or entry is not None:
                status.missing.append(cid)
            continue
        if entry["source_sha"] != source_sha(english):
            status.stale.append(cid)
        elif cell["cell_type"] == "code" and not same_code(english, entry["text"]):
            status.broken.append(cid)
    status.unknown = sorted(set(entries) - ids)
    return status


def translate(release_nb, entries, language):
    """The edition: the English release with every translated cell replaced.

    Locked cells get a fresh nbgrader checksum so `nbgrader validate` accepts the edition.
    """
    from nbgrader.utils import compute_checksum
    from nbformat import from_dict
    edition = copy.deepcopy(release_nb)
    for cell in edition["cells"]:
        entry = entries.get(cell.get("id"))
        if entry is not None:
            cell["source"] = entry["text"]
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if "checksum" in meta:
                meta["checksum"] = compute_checksum(from_dict(cell))
    edition.setdefault("metadata", {}).setdefault("course", {})["language"] = language
    return edition


def write_edition(release_path, solution_path, language):
    """Write `<stem>.<language>.ipynb` beside the English release; returns its path.

    TranslationError (listing the cells) when the translation is incomplete, stale or changes
    code: a half-translated edition is never written.
    """
    release_nb = json.loads(Path(release_path).read_text(encoding="utf-8"))
    entries = load(translation_path(solution_path, language))
    status = check(release_nb, entries, Path(release_path).name)
    if not status.ok:
        raise TranslationError(f"{language} edition not written: {status.describe()}")
    target = edition_path(release_path, language)
    text = json.dumps(translate(release_nb, entries, language), indent=1, ensure_ascii=False)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def template(release_nb, entries=None):
    """Entries for every cell that needs (re)translation, holding the English text to start from.

    Used by translators (`course translations --template`): existing, current entries are kept.
    """
    entries = dict(entries or {})
    out = {}
    for cell in release_nb["cells"]:
        cid, english = cell.get("id"), source_text(cell)
        entry = entries.get(cid)
        if entry is not None and entry["source_sha"] == source_sha(english):
            out[cid] = entry
        elif needs_translation(cell) or entry is not None:
            out[cid] = {"source_sha": source_sha(english), "text": english, "todo": True}
    return out


def report(names=None, language="ko", write_template=False, root=None):
    """Print each notebook's translation status; with write_template, add the cells to translate.

    Returns 0 when every translation is complete and current, else 1 (`course translations`).
    """
    from . import paths
    root = Path(root or paths.ROOT)
    status_ok = True
    for solution in paths.solution_notebooks(root, names):
        release = paths.release_path(solution, root)
        if not release.exists():
            print(f"{release.relative_to(root)} is missing: run `course release` first")
            status_ok = False
            continue
        release_nb = json.loads(release.read_text(encoding="utf-8"))
        path = translation_path(solution, language)
        entries = load(path) if path.exists() else {}
        if write_template:
            cells = template(release_nb, entries)
            path.write_text(json.dumps({"language": language, "cells": cells}, indent=1,
                                       ensure_ascii=False) + "\n", encoding="utf-8")
            entries = cells
        status = check(release_nb, entries, str(path.relative_to(root)))
        print(status.describe())
        status_ok = status_ok and status.ok
    return 0 if status_ok else 1
