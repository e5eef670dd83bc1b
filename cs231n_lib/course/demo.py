"""`course demo`: build a sample class from the solutions, grade it, compare with expectations.

Every student is a deterministic variant of the solutions, so the score each should get is
known in advance; the demo prints the gradebook with the expected score beside each entry
and exits non-zero if any differs.
"""
import json
import shutil
import sys
import time
from pathlib import Path

from cs231n_lib import grading

from . import paths, pipeline, variants

LOOP = "while True:\n    pass  # a student's accidental infinite loop\n"
KILL = "import os\nos._exit(1)  # ends the Python process\n"
LYING = '''
import numpy, builtins
numpy.allclose = lambda *a, **k: True          # attack: make comparisons always pass
numpy.testing.assert_allclose = lambda *a, **k: None
builtins.AssertionError = type("Never", (Exception,), {})


class AlwaysEqual(numpy.ndarray):
    def __eq__(self, other):
        return True


def {name}(*args, **kwargs):
    return numpy.zeros(3).view(AlwaysEqual)    # attack: an array that claims to equal anything
'''


def _exercises(assignment):
    return [grading.get_exercise(n) for n in grading.exercise_names(notebook=assignment)]


def _cell_points(source):
    return {c["metadata"]["nbgrader"]["grade_id"]: float(c["metadata"]["nbgrader"].get("points", 0))
            for c in source["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")}


def _auto_max(source):
    return sum(p for gid, p in _cell_points(source).items()
               if variants.find_cell(source, gid)["cell_type"] == "code")


def _first_exercise(assignment):
    exercises = _exercises(assignment)
    return exercises[0] if exercises else None


def _lose(source, *test_cells):
    points = _cell_points(source)
    return _auto_max(source) - sum(points.get(c, 0) for c in set(test_cells))


def _mistakes(assignment, source):
    nb, lost = variants.without_outputs(source), []
    for ex in _exercises(assignment):
        variants.plant_mistake(nb, ex, ex.mistakes[0])
        lost.append(ex.test_cell)
    return nb, _lose(source, *lost)


def _replace_first_answer(source, assignment, text, append=False):
    nb, ex = variants.without_outputs(source), _first_exercise(assignment)
    cell = variants.find_cell(nb, ex.answer_cell)
    cell["source"] = (variants.source_text(cell) + "\n" + text) if append else text
    return nb, _lose(source, ex.test_cell)


def _delegating(source, assignment):
    nb, lost = variants.without_outputs(source), []
    for ex in _exercises(assignment):
        imports = "\n".join(f"from {fn.__module__} import {fn.__name__} as {name}"
                            for fn, name in zip(ex.reference_fns, ex.function_names))
        variants.find_cell(nb, ex.answer_cell)["source"] = imports
        lost.append(ex.test_cell)
    return nb, _lose(source, *lost)


def _lying(source, assignment):
    nb, lost = variants.without_outputs(source), []
    for ex in _exercises(assignment):
        variants.find_cell(nb, ex.answer_cell)["source"] = "\n".join(
            LYING.replace("{name}", name) for name in ex.function_names)
        lost.append(ex.test_cell)
    return nb, _lose(source, *lost)


def _edited_tests(source):
    nb = variants.without_outputs(source)
    tests = [c for c in nb["cells"] if variants.cell_role(c) == "tests"]
    if tests:
        tests[0]["source"] = "pass  # a student 'fixed' the failing test"
        tests[0]["metadata"].setdefault("tags", []).append("skip-execution")
        nb["cells"].remove(tests[-1]) if len(tests) > 1 else None
    return nb, _auto_max(source)


def build_class(folder, sources):
    """Write the sample submissions; returns {(student, assignment, notebook): expected score}."""
    folder = Path(folder)
    expected = {}
    keys = sorted(sources)
    special = {  # (student, which notebook index) -> builder for that one notebook
        ("dee", 0): lambda s, a: _replace_first_answer(s, a, LOOP, append=True),
        ("eve", 1 % len(keys)): lambda s, a: _replace_first_answer(s, a, KILL, append=True),
        ("fay", 2 % len(keys)): lambda s, a: _edited_tests(s),
        ("hal", 0): lambda s, a: _delegating(s, a),
        ("ivy", 1 % len(keys)): lambda s, a: _lying(s, a),
    }
    for i, (assignment, stem) in enumerate(keys):
        source = sources[(assignment, stem)]
        release = json.loads((paths.NOTEBOOKS / assignment / f"{stem}.ipynb").read_text())
        plan = {
            "ada": (variants.without_outputs(source), _auto_max(source)),
            "ben": _mistakes(assignment, source),
            "cy": (release, 0.0),
        }
        for student in ("dee", "eve", "fay", "hal", "ivy"):
            builder = special.get((student, i))
            plan[student] = builder(source, assignment) if builder else \
                (variants.without_outputs(source), _auto_max(source))
        for student, (nb, score) in plan.items():
            _write(folder / student / assignment / f"{stem}.ipynb", json.dumps(nb))
            expected[(student, assignment, stem)] = score
        if i == len(keys) - 1:  # gus: a corrupt file, reported as not graded
            _write(folder / "gus" / assignment / f"{stem}.ipynb", '{"cells": [ this is not JSON')
            expected[("gus", assignment, stem)] = "ungraded"
    return expected


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


STORIES = {
    "ada": "fully correct", "ben": "one known mistake in every exercise",
    "cy": "untouched release", "dee": "infinite loop in one answer (01)",
    "eve": "kills its Python process (02)", "fay": "edited + deleted test cells (03)",
    "gus": "corrupt notebook file (last)", "hal": "ADVERSARIAL: imports the reference (01)",
    "ivy": "ADVERSARIAL: lying __eq__ + monkeypatched numpy (02)",
}


def run_demo(out_dir, jobs=2, timeout=10.0):
    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    sources = pipeline.load_sources()
    expected = build_class(out / "submissions", sources)
    print(f"sample class: {len({k[0] for k in expected})} students x {len(sources)} notebooks "
          f"in {out / 'submissions'}")
    for student, story in STORIES.items():
        print(f"  {student:<4} {story}")
    start = time.perf_counter()
    limits = {"timeout": timeout, "memory_bytes": 4 * 2**30, "output_cap": 65536}
    progress = pipeline.Progress(len(expected))
    try:
        report = pipeline.grade_folder(out / "submissions", out / "work", jobs=jobs, limits=limits,
                                       progress=progress)
    finally:
        progress.close()
    seconds = time.perf_counter() - start
    feedback = pipeline.write_all_feedback(out / "work")
    csv_path, lms_path, json_path = pipeline.export(out / "work")
    print(f"\ngraded {len(report.results)} notebooks in {seconds:.1f} s with {jobs} job(s)\n")
    print(pipeline.format_table(report.results, expected))
    mismatches = [r for r in report.results
                  if not pipeline._meets(r, expected[(r.student, r.assignment, r.notebook)])]
    for r in report.ungraded:
        print(f"not graded (expected): {r.student} {r.assignment}/{r.notebook}: {r.error}")
    print(f"\nfeedback: {len(feedback)} pages under {out / 'work' / 'feedback'}")
    print(f"grades:   {csv_path}\n          {lms_path}\n          {json_path}")
    if mismatches:
        print(f"\n{len(mismatches)} score(s) differ from the expected ones", file=sys.stderr)
        return 1
    print("\nevery score is the expected one")
    return 0
