"""The language of the course's messages: one catalogue per language, keyed by the English text.

Messages are written in English in the code, wrapped in `tr()` (gettext style)::

    tr("{name} is not implemented yet", name=name)

`tr` looks the English template up in the active language's catalogue
(``cs231n_lib/locale/<lang>.json``: {English template: translated template}) and formats it.
A template missing from the catalogue falls back to English, and a test lists every template
the code uses that a catalogue lacks. A Korean notebook selects Korean in its set-up cell with
``set_language("ko")``; the grader selects the language of each submission with `language()`.
"""
import contextlib
import json
import threading
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "ko")
_LOCALE = Path(__file__).resolve().parent / "locale"
_active = "en"
# language() sets a per-thread language over the global one: a Dask worker grading several
# submissions in threads gives each its own.
_local = threading.local()


def _valid(language):
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    return language


def set_language(language):
    """Make `language` ("en" or "ko") the language of every later message."""
    global _active
    _active = _valid(language)


def get_language():
    return getattr(_local, "language", None) or _active


@contextlib.contextmanager
def language(name):
    """Use language `name` inside a with-block, in this thread only (the grader: one
    submission at a time per thread)."""
    previous = getattr(_local, "language", None)
    _local.language = _valid(name)
    try:
        yield
    finally:
        _local.language = previous


@lru_cache(maxsize=None)
def catalogue(language):
    """{English template: translated template} for `language` ({} for English)."""
    if language == "en":
        return {}
    return json.loads((_LOCALE / f"{language}.json").read_text(encoding="utf-8"))


def N_(template):
    """Mark `template` for the catalogue without translating it now (gettext's N_): for
    words kept in a table and passed to tr() later."""
    return template


def tr(template, **values):
    """`template` in the active language, formatted with `values` (str.format)."""
    text = catalogue(get_language()).get(template, template)
    return text.format(**values) if values else text
