"""Make submissions from a solution notebook: correct, with a known mistake, or trimmed.

The known mistakes come from the exercise registry, so the notebook tests, the demo class and
the grading checks all use the same wrong implementations.
"""
import copy
import inspect
import re
import textwrap


def cell_role(cell):
    """The role the authoring tools gave a cell in the source notebook ('' if none)."""
    return cell.get("metadata", {}).get("course", {}).get("role", "")


def source_text(cell):
    """A cell's source as one string (notebook files may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def without_experiments(nb):
    """A copy without the experiment cells (what a fast grading run needs)."""
    nb = copy.deepcopy(nb)
    nb["cells"] = [c for c in nb["cells"] if cell_role(c) != "experiment"]
    return nb


def without_outputs(nb):
    """A copy with all code outputs and execution counts cleared."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def find_cell(nb, cell_grade_id):
    for cell in nb["cells"]:
        if grade_id(cell) == cell_grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {cell_grade_id!r}")


def with_answer(nb, answer_grade_id, source):
    """A copy whose answer cell `answer_grade_id` holds `source` instead."""
    nb = copy.deepcopy(nb)
    find_cell(nb, answer_grade_id)["source"] = source
    return nb


def implementation_source(fn, name):
    """Source of `fn` as a top-level `def name(...)`, as a student would have typed it."""
    source = textwrap.dedent(inspect.getsource(fn))
    source, count = re.subn(rf"^def {re.escape(fn.__name__)}\(", f"def {name}(", source,
                            count=1, flags=re.M)
    if count != 1:
        raise ValueError(f"could not find 'def {fn.__name__}(' in its source")
    return source


def plant_mistake(nb, exercise, mistake):
    """Put a known mistake into the exercise's answer cell of `nb` (in place).

    A callable mistake is appended as a later `def` of the same name, which wins, so the rest
    of the cell (other functions it defines) stays correct; a string replaces the whole cell.
    """
    cell = find_cell(nb, exercise.answer_cell)
    if callable(mistake.implementation):
        name = exercise.function_names[mistake.replaces]
        cell["source"] = source_text(cell) + "\n\n\n" + implementation_source(mistake.implementation, name)
    else:
        cell["source"] = mistake.implementation
