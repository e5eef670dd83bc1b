"""Feedback pages (one HTML file per student per notebook) and grade exports (CSV + JSON).

Scores come from the gradebook (automatic and manual, with the instructor's comments), the
grader's messages from its per-cell results. A feedback page is the graded notebook
(gradebook.graded_notebook) rendered by nbconvert's HTML exporter, so markdown and math look
as in JupyterLab; a summary table heads it, and a note follows every graded cell. Hidden tests
never appear: nbgrader's ClearHiddenTests removes them from the test cells, and the grader's
messages are built from inputs and outputs only.
"""
import copy
import csv
import functools
import html
import json
import re
from pathlib import Path

from cs231n_lib.i18n import N_, language, tr

from .gradebook import graded_notebook
from .variants import source_text

# English templates; tr() shows them in the submission's language.
STATUS_WORDS = {"passed": N_("passed"), "failed": N_("failed"),
                "not implemented": N_("not implemented yet"),
                "manual": N_("graded by your instructor")}


def _status(status):
    return tr(STATUS_WORDS.get(status, status))


def _md_escape(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _cell_note(cell_result, grade):
    """The markdown note placed under a graded cell."""
    if grade is not None and grade.written:
        if grade.manual_score is None:
            text = tr("**{grade_id}: not graded yet** (max {max_score:g} points)",
                      grade_id=grade.grade_id, max_score=grade.max_score)
        else:
            text = tr("**{grade_id}: {score:g} / {max_score:g} points**", grade_id=grade.grade_id,
                      score=grade.score, max_score=grade.max_score)
    else:
        score = grade.score if grade is not None else cell_result.points
        max_score = grade.max_score if grade is not None else cell_result.max_points
        status = _status(cell_result.status) if cell_result else tr("not graded")
        text = tr("**{grade_id}: {score:g} / {max_score:g} points** — {status}",
                  grade_id=(grade or cell_result).grade_id, score=score, max_score=max_score,
                  status=status)
        if cell_result and cell_result.message:
            text += tr("; the grader's message is the cell's output above")
    if grade is not None and grade.comment:
        text += "\n\n" + tr("> Comment from your instructor: {comment}", comment=grade.comment)
    return {"cell_type": "markdown", "metadata": {"course": {"role": "feedback"}}, "source": text}


def _summary(result, grades):
    lines = [tr("# Feedback: {assignment} / {notebook}", assignment=result.assignment,
                notebook=result.notebook), "",
             tr("Student: **{student}**", student=result.student), ""]
    if grades is not None:
        lines += [tr("Automatic points **{automatic:g}**, written answers **{manual:g}**, total "
                     "**{total:g} / {max_score:g}**.", automatic=grades.automatic,
                     manual=grades.manual, total=grades.total,
                     max_score=sum(c.max_score for c in grades.cells.values())), ""]
        if grades.ungraded_written:
            lines += [tr("Written answers not graded yet: {cells}.",
                         cells=", ".join(grades.ungraded_written)), ""]
    if not result.graded:
        lines += [tr("**This notebook could not be graded:** {error}",
                     error=_md_escape(result.error)), ""]
    lines += [tr("| graded cell | points | result | comment |"), "|---|---|---|---|"]
    for c in result.cells:
        g = grades.cells.get(c.grade_id) if grades else None
        score, max_score = (g.score, g.max_score) if g else (c.points, c.max_points)
        status = (tr("not graded yet") if g.manual_score is None else _status("manual")) \
            if g is not None and g.written else _status(c.status)
        lines.append(f"| {c.grade_id} | {score:g} / {max_score:g} | {status} | "
                     f"{_md_escape(g.comment) if g else ''} |")
    if result.problems:
        lines += ["", tr("Notes:"), ""] + [f"- {_md_escape(p)}" for p in result.problems]
    return {"cell_type": "markdown", "metadata": {"course": {"role": "feedback"}}, "source": "\n".join(lines)}


# $$...$$ or $...$ outside `code`; a \$ is a dollar sign, not math.
_MATH = re.compile(r"(`+)(?:.|\n)*?\1|(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)([^$\n`]+?)(?<![\\\s])\$",
                   re.S)


def math_to_mathml(markdown):
    """LaTeX in markdown as MathML, which browsers render themselves: feedback pages show math
    without MathJax from a CDN (students may read them offline). Unconvertible math stays."""
    from latex2mathml.converter import convert

    def replace(match):
        if match.group(1):          # a code span: leave it
            return match.group(0)
        latex, display = (match.group(2), "block") if match.group(2) is not None else (match.group(3), "inline")
        try:
            return convert(latex.strip(), display=display)
        except Exception:           # latex2mathml raises several kinds; keep the source then
            return match.group(0)
    return _MATH.sub(replace, markdown)


def edition_source(source, result, root):
    """`source` with the text of its locked and test cells taken from the release of the
    submission's language (`notebooks/<assignment>/<stem>.<language>.ipynb` under `root`,
    cells matched by id), so a Korean student's page quotes the Korean notebook they worked
    in. Metadata, points and grading stay the source's; answer cells are the student's anyway.
    The English source when the submission is English or no such release exists."""
    language_code = getattr(result, "language", "en")
    path = (Path(root) / "notebooks" / result.assignment
            / f"{result.notebook}.{language_code}.ipynb")
    if language_code == "en" or not path.is_file():
        return source
    edition = {c.get("id"): c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]}
    localized = copy.deepcopy(source)
    for cell in localized["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        translated = edition.get(cell.get("id"))
        if (translated is not None and meta.get("grade_id") and not meta.get("solution")
                and translated.get("cell_type") == cell.get("cell_type")):
            # A release's test cell lacks the hidden tests; the page drops them anyway.
            cell["source"] = translated["source"]
    return localized


def feedback_notebook(source, result, submission_text, grades=None):
    """The notebook a feedback page renders (a dict; hidden tests removed), its fixed texts in
    the submission's language."""
    with language(getattr(result, "language", "en")):
        return _feedback_notebook(source, result, submission_text, grades)


def _feedback_notebook(source, result, submission_text, grades):
    import nbformat
    from nbgrader.preprocessors import ClearHiddenTests
    nb = graded_notebook(source, result, submission_text)
    by_id = {c.grade_id: c for c in result.cells}
    cells = [_summary(result, grades)]
    for cell in nb["cells"]:
        cells.append(cell)
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in by_id:
            cells.append(_cell_note(by_id[gid], grades.cells.get(gid) if grades else None))
    nb["cells"] = cells
    for k, cell in enumerate(nb["cells"]):
        cell["id"] = f"feedback-{k}"
        cell["source"] = source_text(cell)  # nbgrader's preprocessors expect one string
        if cell["cell_type"] == "markdown":
            cell["source"] = math_to_mathml(cell["source"])
    node = nbformat.from_dict(nb)
    node, _ = ClearHiddenTests().preprocess(node, {})
    return node


# HTML made only of <div>, <pre> and <span> tags with class attributes (what pygments' code
# highlighting produces) has nothing to sanitize; bleach would spend ~0.1 s per code cell on it.
_PLAIN_MARKUP = re.compile(r'(?:[^<]|</?(?:div|pre|span)(?: class="[^"<>]*")?>)*')


def _clean_html(html):
    from nbconvert.filters.strings import clean_html
    return html if _PLAIN_MARKUP.fullmatch(html) else clean_html(html)


def _plain_code(source, language=None, metadata=None):
    """Code without syntax colours: pygments' thousands of <span>s made a page with a few
    dozen code cells take seconds to render (nbconvert parses the whole page once more)."""
    return f'<div class="highlight hl-ipython3"><pre>{html.escape(source)}</pre></div>'


@functools.lru_cache(maxsize=None)
def _exporter(language="en"):
    """One HTML exporter per page language (loading its templates costs more than rendering
    one); `language` becomes the page's <html lang>."""
    from nbconvert import HTMLExporter
    return HTMLExporter(template_name="lab", language_code=language,
                        filters={"clean_html": _clean_html, "highlight_code": _plain_code})


def render_feedback(source, result, submission_text, grades=None):
    """The HTML page for one graded notebook (nbconvert's HTML exporter, `lab` template)."""
    body, _ = _exporter(getattr(result, "language", "en")).from_notebook_node(
        feedback_notebook(source, result, submission_text, grades),
        resources={"metadata": {"name": f"{result.student} — {result.assignment}/{result.notebook}"}})
    return body


def write_feedback(out_dir, source, result, submission_text, grades=None):
    """Write feedback/<student>/<assignment>/<notebook>.html; returns its path."""
    path = Path(out_dir) / result.student / result.assignment / f"{result.notebook}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_feedback(source, result, submission_text, grades))
    return path


# ----------------------------------------------------------------------------- exports

def export_grades(out_dir, results, grades, max_points):
    """grades.csv, grades_by_assignment.csv (LMS import) and grades.json; returns their paths.

    results: the grader's NotebookResults; grades: {(student, assignment, notebook):
    NotebookGrades} read from the gradebook (scores, manual grades, comments);
    max_points: {(assignment, notebook): (automatic max, written max)}.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = sorted(max_points)
    students = sorted({r.student for r in results} | {k[0] for k in grades})
    paths = (_write_detail_csv(out_dir / "grades.csv", students, columns, grades, max_points),
             _write_lms_csv(out_dir / "grades_by_assignment.csv", students, columns, grades, max_points),
             _write_json(out_dir / "grades.json", results, grades))
    return paths


def _write_detail_csv(path, students, columns, grades, max_points):
    """One row per student: automatic, manual and total per notebook, the total, what is open."""
    header = ["student"]
    for a, n in columns:
        auto_max, written_max = max_points[(a, n)]
        header += [f"{a}/{n} automatic (max {auto_max:g})", f"{a}/{n} manual (max {written_max:g})",
                   f"{a}/{n} total (max {auto_max + written_max:g})"]
    header += [f"total (max {sum(sum(v) for v in max_points.values()):g})", "ungraded written answers"]
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for student in students:
            row, total, open_items = [student], 0.0, []
            for a, n in columns:
                g = grades.get((student, a, n))
                if g is None:
                    row += ["", "", ""]
                    continue
                row += [f"{g.automatic:g}", f"{g.manual:g}", f"{g.total:g}"]
                total += g.total
                open_items += [f"{a}/{n}:{gid}" for gid in g.ungraded_written]
            writer.writerow(row + [f"{total:g}", " ".join(open_items)])
    return path


def _write_lms_csv(path, students, columns, grades, max_points):
    """One column per assignment (total points), the shape gradebook imports of LMSs take."""
    assignments = sorted({a for a, _ in columns})
    maxima = {a: sum(sum(max_points[(x, n)]) for x, n in columns if x == a) for a in assignments}
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student"] + [f"{a} (max {maxima[a]:g})" for a in assignments])
        for student in students:
            writer.writerow([student] + [
                f"{sum(g.total for (s, x, _), g in grades.items() if s == student and x == a):g}"
                if any(s == student and x == a for s, x, _ in grades) else "" for a in assignments])
    return path


def _write_json(path, results, grades):
    detail = []
    for r in results:
        entry = r.to_dict()
        g = grades.get((r.student, r.assignment, r.notebook))
        if g is not None:
            entry.update(automatic=g.automatic, manual=g.manual, total=g.total,
                         timestamp=g.timestamp, ungraded_written=g.ungraded_written)
            for cell in entry["cells"]:
                cg = g.cells.get(cell["grade_id"])
                if cg is not None:
                    cell.update(score=cg.score, auto_score=cg.auto_score, manual_score=cg.manual_score,
                                needs_manual_grade=cg.needs_manual_grade, comment=cg.comment)
        detail.append(entry)
    path.write_text(json.dumps(detail, indent=1))
    return path
