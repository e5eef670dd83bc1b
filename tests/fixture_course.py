"""A tiny course used by the grader tests: three exercises in one notebook, independent of
the real lecture notebooks (which have their own end-to-end tests)."""
import json
from pathlib import Path

import numpy as np

from cs231n_lib import gradient_check, optim
from cs231n_lib.course.authoring import NotebookBuilder
from cs231n_lib.grading import Case, CheckFailure, Exercise, Mistake, _REGISTRY, register

ASSIGNMENT = "99_fixture"
NOTEBOOK = "fixture"


def _rel_error_case(rng):
    a = rng.standard_normal((3, 4))
    return Case((a, a + 1e-3 * rng.standard_normal((3, 4))))


def _momentum_case(rng):
    w = rng.standard_normal((4, 3))
    config = {"learning_rate": 1e-2, "momentum": 0.9, "velocity": rng.standard_normal((4, 3))}
    return Case((w, rng.standard_normal((4, 3)), config))


def momentum_sign_error(w, dw, config=None):
    v = config["momentum"] * config["velocity"] + config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def scaled_normal(rng, n):
    """Reference of the property-graded exercise: n draws of N(0, 2^2) from `rng`."""
    return 2.0 * rng.standard_normal(n)


def _check_scaled_normal(rng, student_fn):
    seed = int(rng.integers(1 << 30))
    first = np.asarray(student_fn(np.random.default_rng(seed), 20000))
    again = np.asarray(student_fn(np.random.default_rng(seed), 20000))
    if first.shape != (20000,):
        raise CheckFailure(f"scaled_normal must return shape (20000,), got {first.shape}")
    if not np.array_equal(first, again):
        raise CheckFailure("scaled_normal must draw from the rng it is given (same seed, same values)")
    if abs(first.std() - 2.0) > 0.05:
        message = f"scaled_normal: std {first.std():.3f}, expected 2"
        if abs(first.std() - 4.0) < 0.1:
            message += "\nKnown mistake: variance instead of std."
        raise CheckFailure(message)


EXERCISES = [
    Exercise(name="fx_rel_error", notebook=ASSIGNMENT, reference=gradient_check.rel_error,
             make_case=_rel_error_case, answer_cell="rel_error", test_cell="test_rel_error",
             mistakes=[Mistake("absolute error", "divide by the magnitudes",
                               lambda a, b: float(np.max(np.abs(a - b))))]),
    Exercise(name="fx_momentum", notebook=ASSIGNMENT, reference=optim.sgd_momentum,
             make_case=_momentum_case, output_names=("next_w", "config"),
             answer_cell="sgd_momentum", test_cell="test_sgd_momentum",
             mistakes=[Mistake("momentum sign error", "v = mu*v - lr*dw", momentum_sign_error)]),
    Exercise(name="fx_scaled_normal", notebook=ASSIGNMENT, custom_check=_check_scaled_normal,
             reference_fns=(scaled_normal,), answer_cell="scaled_normal",
             test_cell="test_scaled_normal",
             mistakes=[Mistake("variance instead of std", "scale by 2, not 4",
                               lambda rng, n: 4.0 * rng.standard_normal(n))]),
]


def register_fixture_exercises():
    for exercise in EXERCISES:
        if exercise.name not in _REGISTRY:
            register(exercise)


register_fixture_exercises()

ANSWERS = {
    "rel_error": '''def rel_error(a, b):
    """Max relative error."""
    ### BEGIN SOLUTION
    a, b = np.asarray(a, float), np.asarray(b, float)
    denom = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(denom == 0, 0.0, np.abs(a - b) / np.where(denom == 0, 1, denom))))
    ### END SOLUTION''',
    "sgd_momentum": '''def sgd_momentum(w, dw, config=None):
    """SGD with momentum."""
    ### BEGIN SOLUTION
    v = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
    ### END SOLUTION''',
    "scaled_normal": '''def scaled_normal(rng, n):
    """n draws of N(0, 4)."""
    ### BEGIN SOLUTION
    return 2.0 * rng.standard_normal(n)
    ### END SOLUTION''',
}


def build_course(root):
    """Write solutions/ and notebooks/ of the fixture course under `root`; returns the source."""
    nb = NotebookBuilder("99 Fixture")
    nb.markdown("# Fixture notebook")
    nb.setup("%matplotlib inline\nimport numpy as np\nfrom cs231n_lib.grading import check")
    for name, points in (("rel_error", 2), ("sgd_momentum", 2), ("scaled_normal", 1)):
        nb.answer(name, ANSWERS[name])
        exercise = {"rel_error": "fx_rel_error", "sgd_momentum": "fx_momentum",
                    "scaled_normal": "fx_scaled_normal"}[name]
        nb.tests(f"test_{name}", f'check("{exercise}", {name})\n### BEGIN HIDDEN TESTS\n'
                                 f'check("{exercise}", {name}, hidden=True)\n### END HIDDEN TESTS',
                 points=points)
    nb.experiment("import time\ntime.sleep(1000)  # an expensive experiment: never run when grading")
    nb.written("why", 1, "Why?", "Because.")
    source = nb.notebook()
    for folder in ("solutions", "notebooks"):
        path = Path(root) / folder / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(source))
    (Path(root) / "nbgrader_config.py").write_text("")
    return json.loads(json.dumps(source))
