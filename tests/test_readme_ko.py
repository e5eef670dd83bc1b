"""The Korean README: present, linked from the English one, the same commands, written in Korean."""
import re

import pytest

from cs231n_lib.course import paths, translations

README = paths.ROOT / "README.md"
README_KO = paths.ROOT / "README.ko.md"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
SHELL_FENCE = re.compile(r"^```(?:bash|sh|shell|console)\s*$")
COMMENT = re.compile(r"\s+#\s.*$")   # a trailing "# ..." comment: translated, so not compared
KOREAN_SHARE = 0.9                  # prose lines with Hangul; the rest are code-only lines


def _text(path):
    if not path.exists():
        pytest.fail(f"{path.name} is missing; write it next to README.md")
    return path.read_text(encoding="utf-8")


def shell_commands(markdown):
    """The commands of the fenced bash/sh blocks, without their comments (which get translated)."""
    commands, inside = set(), False
    for line in markdown.splitlines():
        if not inside:
            inside = bool(SHELL_FENCE.match(line.strip()))
        elif line.strip().startswith("```"):
            inside = False
        else:
            command = COMMENT.sub("", line).strip()
            if command and not command.startswith("#"):
                commands.add(command)
    return commands


def prose_lines(markdown):
    """Non-empty lines outside fenced blocks, minus table rules (|---|): what a reader reads."""
    lines, inside = [], False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
        elif not inside and line.strip() and not re.fullmatch(r"[|\s:-]+", line.strip()):
            lines.append(line)
    return lines


def bootstrap(commands):
    return {c for c in commands if "cs231n_lib.bootstrap" in c}


def test_readme_ko_exists_and_english_readme_links_it():
    _text(README_KO)
    assert "](README.ko.md)" in _text(README), "README.md must link README.ko.md near the top"


def test_bootstrap_commands_are_the_english_ones():
    english, korean = bootstrap(shell_commands(_text(README))), bootstrap(shell_commands(_text(README_KO)))
    assert {"python3 -m cs231n_lib.bootstrap demo", "python3 -m cs231n_lib.bootstrap test"} <= english
    assert korean == english, (f"only in README.ko.md: {sorted(korean - english)}; "
                               f"only in README.md: {sorted(english - korean)}")


def test_every_shell_command_is_the_english_one():
    english, korean = shell_commands(_text(README)), shell_commands(_text(README_KO))
    assert korean == english, (f"only in README.ko.md: {sorted(korean - english)}; "
                               f"only in README.md: {sorted(english - korean)}")


def test_command_comparison_sees_a_changed_command():
    # The comparison must not be blind to an edit: change one flag and the sets differ.
    text = _text(README_KO)
    changed = text.replace("cs231n_lib.bootstrap demo", "cs231n_lib.bootstrap demo --fast", 1)
    assert changed != text
    assert bootstrap(shell_commands(changed)) != bootstrap(shell_commands(text))


def test_links_the_korean_edition_of_every_notebook():
    text = _text(README_KO)
    for solution in paths.solution_notebooks():
        edition = translations.edition_path(paths.release_path(solution), "ko")
        link = f"]({edition.relative_to(paths.ROOT).as_posix()})"
        assert link in text, f"README.ko.md does not link {link[2:-1]}"


def test_linked_notebooks_have_an_english_release():
    for target in re.findall(r"\]\((notebooks/[^)]+?)\.ko\.ipynb\)", _text(README_KO)):
        assert (paths.ROOT / f"{target}.ipynb").exists(), f"no English release {target}.ipynb"


def test_prose_is_korean():
    lines = prose_lines(_text(README_KO))
    english = [line for line in lines if not HANGUL.search(line)]
    assert len(lines) > 50, "README.ko.md is too short to be the whole README"
    assert len(english) <= (1 - KOREAN_SHARE) * len(lines), (
        f"{len(english)} of {len(lines)} prose lines have no Hangul, e.g. {english[:5]}")
