"""`course validate`: every solution earns full automatic points, every release earns 0."""
import json

from . import batch, paths
from .pipeline import load_sources


def auto_points(result):
    """(automatic points earned, automatic points possible) of a graded notebook."""
    auto = [c for c in result.cells if c.status != "manual"]
    return sum(c.points for c in auto), sum(c.max_points for c in auto)


def validate_course(names=None, limits=None, root=paths.ROOT, jobs=1):
    sources = load_sources(root, names)
    hide = [paths.SOLUTIONS, paths.WORK]
    tasks, labels = [], []
    for (assignment, stem), source in sources.items():
        release = paths.NOTEBOOKS / assignment / f"{stem}.ipynb"
        for kind, text in (("solution", json.dumps(source)), ("release", release.read_text())):
            tasks.append(batch.Task(kind, assignment, stem, source, text,
                                    batch.tripwires_for(assignment), hide, limits or {}))
            labels.append((assignment, stem, kind))
    failures = 0
    for (assignment, stem, kind), result in zip(labels, batch.run_tasks(tasks, jobs=jobs)):
        earned, possible = auto_points(result)
        want = possible if kind == "solution" else 0.0
        ok = result.graded and earned == want
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {assignment}/{stem} {kind:<8} {earned:g}/{possible:g} "
              f"automatic points (want {want:g})")
        if not ok:
            for cell in result.cells:
                if cell.message and cell.status != "manual":
                    print(f"     {cell.grade_id}: {cell.message[:500]}")
    return 1 if failures else 0
