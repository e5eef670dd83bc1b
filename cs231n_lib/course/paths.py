"""Where the course's folders are, and which notebooks make up each assignment."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
WORK = ROOT / ".course"
CONFIG_FILE = ROOT / "nbgrader_config.py"


def assignments(root=ROOT):
    """Assignment names (folders of solutions/ like `01_gradient_checking`), in lecture order."""
    folder = Path(root) / "solutions"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def solution_notebooks(root=ROOT, names=None):
    """Paths of the solution notebooks, optionally only of the named assignments."""
    chosen = assignments(root) if not names else list(names)
    unknown = sorted(set(chosen) - set(assignments(root)))
    if unknown:
        raise ValueError(f"unknown assignment(s) {', '.join(unknown)}; "
                         f"known: {', '.join(assignments(root))}")
    return [nb for name in chosen for nb in sorted((Path(root) / "solutions" / name).glob("*.ipynb"))]


def release_path(solution_path, root=ROOT):
    """The release notebook that corresponds to a solution notebook."""
    rel = Path(solution_path).resolve().relative_to(Path(root).resolve() / "solutions")
    return Path(root) / "notebooks" / rel
