"""Generate the student release (notebooks/) from the solutions (solutions/) with nbgrader.

nbgrader runs in this process (no per-assignment start-up cost), then every release notebook
is scanned: a release that still holds solution code, hidden tests or outputs is refused.
"""
import copy
import json
import shutil
import tempfile
from pathlib import Path

from . import paths
from .variants import source_text

# Text that must never reach students. Solution bodies are caught by comparing with the source.
FORBIDDEN_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                     "### END HIDDEN TESTS")


class ReleaseError(RuntimeError):
    """The release could not be generated, or is unsafe to hand to students."""


class EditionError(ReleaseError):
    """The English release was written, but a translated edition could not be (stale, missing)."""


def load_config(root=paths.ROOT):
    """The course's nbgrader configuration, as nbgrader itself would read it."""
    from traitlets.config.loader import PyFileConfigLoader
    config_file = Path(root) / "nbgrader_config.py"
    if not config_file.exists():
        raise ReleaseError(f"{config_file} is missing: it maps solutions/ and notebooks/ for nbgrader")
    return PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()


def _api(config):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def split_solution_lines(source_nb):
    """(lines inside BEGIN/END SOLUTION or HIDDEN TESTS blocks, all other lines) of a notebook."""
    hidden, public = [], []
    for cell in source_nb["cells"]:
        inside = False
        for line in source_text(cell).splitlines():
            if "### BEGIN SOLUTION" in line or "### BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "### END SOLUTION" in line or "### END HIDDEN TESTS" in line:
                inside = False
            else:
                (hidden if inside else public).append(line.strip())
    return hidden, public


def audit_release(release_nb, source_nb, name):
    """Problems that make a release notebook unsafe; empty when it is fine."""
    problems = []
    release_lines = set()
    for cell in release_nb["cells"]:
        text = source_text(cell)
        release_lines.update(line.strip() for line in text.splitlines())
        for marker in FORBIDDEN_MARKERS:
            if marker in text:
                problems.append(f"{name}: cell {cell.get('id', '?')} still contains {marker!r}")
    hidden, public = split_solution_lines(source_nb)
    # A solution line leaks when the release shows it although only a solution block had it.
    leaked = [line for line in hidden
              if line and line in release_lines and line not in set(public)]
    if leaked:
        problems.append(f"{name}: solution or hidden-test lines leaked, e.g. {leaked[0]!r}")
    if release_nb.get("metadata", {}).get("widgets"):
        problems.append(f"{name}: carries widget state (progress bars) from an executed solution; "
                        "re-run `course run-solutions`, which no longer stores it")
    if any(c.get("outputs") for c in release_nb["cells"] if c["cell_type"] == "code"):
        problems.append(f"{name}: has outputs (the release must be committed without outputs)")
    return problems


def generate_release(root=paths.ROOT, names=None, output_root=None):
    """Regenerate the release notebooks; returns their paths.

    output_root: write `notebooks/` under this folder instead of `root` (used by the sync test,
    which compares a fresh release with the committed one without touching it).
    """
    root = Path(root)
    names = list(names) if names else paths.assignments(root)
    if not names:
        raise ReleaseError(f"no assignments found in {root / 'solutions'}")
    unknown = sorted(set(names) - set(paths.assignments(root)))
    if unknown:
        raise ValueError(f"unknown assignment {', '.join(unknown)} "
                         f"(known: {', '.join(paths.assignments(root))})")
    with tempfile.TemporaryDirectory(prefix="course-release-") as work:
        config = copy.deepcopy(load_config(root))
        # Generate in a scratch course root so a failed run never leaves notebooks/ half-written.
        scratch = Path(work)
        shutil.copytree(root / "solutions", scratch / "solutions",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.png"))
        config.CourseDirectory.root = str(scratch)
        config.CourseDirectory.db_url = f"sqlite:///{scratch / 'gradebook.db'}"
        api = _api(config)
        for name in names:
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise ReleaseError(f"nbgrader could not generate {name}:\n{result.get('error', '')}"
                                   f"\n{result.get('log', '')}")
        written = _install(scratch, Path(output_root) if output_root else root, names, root)
    return written + _write_editions(written, root)


def _write_editions(written, source_root):
    """Translated editions beside each English release notebook that has a translation file.

    Notebooks without a translation file are released in English only; a translation that is
    stale or incomplete stops its edition (never half-translated) and is reported at the end.
    """
    from . import translations
    editions, problems = [], []
    for release_path in written:
        solution = Path(source_root) / "solutions" / release_path.parent.name / release_path.name
        for language in translations.LANGUAGES:
            if not translations.translation_path(solution, language).exists():
                continue
            try:
                editions.append(translations.write_edition(release_path, solution, language))
            except translations.TranslationError as exc:
                problems.append(str(exc))
    if problems:
        raise EditionError("the English release was written, but:\n  " + "\n  ".join(problems)
                           + "\nupdate the translations (`course translations --template NN`)")
    return editions


def _install(scratch, target_root, names, source_root):
    problems, staged = [], []
    for name in names:
        for release_file in sorted((scratch / "notebooks" / name).glob("*.ipynb")):
            release_nb = json.loads(release_file.read_text())
            source_nb = json.loads((source_root / "solutions" / name / release_file.name).read_text())
            problems += audit_release(release_nb, source_nb, f"{name}/{release_file.name}")
            staged.append((name, release_file))
    if problems:
        raise ReleaseError("refusing to write an unsafe release:\n  " + "\n  ".join(problems))
    written = []
    for name, release_file in staged:
        dest = target_root / "notebooks" / name / release_file.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(release_file, dest)
        written.append(dest)
    return written
