"""Feedback pages (one HTML file per student per notebook) and grade exports (CSV + JSON).

Feedback shows, per graded cell, the points and the grader's message, then the student's own
notebook with its plots. It never contains hidden tests: the grader's messages are built from
inputs and outputs only, and test cells are shown as their results, not their code.
"""
import csv
import html
import json
from pathlib import Path

from .variants import source_text

STATUS_COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "not implemented": "#9a6700",
                  "manual": "#57606a"}


def _outputs_html(cell):
    parts = []
    for out in cell.get("outputs", []) or []:
        data = out.get("data", {}) if isinstance(out, dict) else {}
        if "image/png" in data:
            png = data["image/png"]
            png = "".join(png) if isinstance(png, list) else png
            parts.append(f'<img alt="plot" src="data:image/png;base64,{html.escape(png.strip())}">')
        elif out.get("output_type") == "stream":
            parts.append(f"<pre class=out>{html.escape(_join(out.get('text', '')))[:20000]}</pre>")
        elif "text/plain" in data:
            parts.append(f"<pre class=out>{html.escape(_join(data['text/plain']))[:20000]}</pre>")
    return "".join(parts)


def _join(value):
    return "".join(value) if isinstance(value, list) else str(value)


def render_feedback(result, submission_nb, test_cell_ids):
    """The HTML page for one graded notebook."""
    rows = "".join(
        f"<tr><td>{html.escape(c.grade_id)}</td><td>{c.points:g} / {c.max_points:g}</td>"
        f"<td style='color:{STATUS_COLOURS.get(c.status, '#000')}'>{html.escape(c.status)}</td>"
        f"<td><pre>{html.escape(c.message)}</pre></td></tr>" for c in result.cells)
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in result.problems)
    by_id = {c.grade_id: c for c in result.cells}
    cells = []
    for cell in (submission_nb or {}).get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or cell.get("id")
        if gid in test_cell_ids:
            graded = by_id.get(gid)
            verdict = f"{graded.status}: {graded.points:g} / {graded.max_points:g}" if graded else "not graded"
            cells.append(f"<div class=test>test cell <b>{html.escape(str(gid))}</b> — {html.escape(verdict)}</div>")
        elif cell.get("cell_type") == "code":
            cells.append(f"<pre class=code>{html.escape(source_text(cell))}</pre>{_outputs_html(cell)}")
        else:
            cells.append(f"<div class=md>{html.escape(source_text(cell))}</div>")
    auto = [c for c in result.cells if c.status != "manual"]
    written = sum(c.max_points for c in result.cells if c.status == "manual")
    status = "" if result.graded else f"<p class=bad>This notebook could not be graded: {html.escape(result.error)}</p>"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(result.student)} — {html.escape(result.notebook)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:auto}} pre{{white-space:pre-wrap;margin:0}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}} table{{border-collapse:collapse;width:100%}}
.code{{background:#f6f8fa;padding:6px}} .out{{padding:6px}} .md{{white-space:pre-wrap;padding:6px}}
.test{{background:#fff8c5;padding:6px}} .bad{{color:#cf222e}} img{{max-width:100%}}</style></head>
<body><h1>{html.escape(result.assignment)} / {html.escape(result.notebook)}</h1>
<p>Student: <b>{html.escape(result.student)}</b> — automatic score
<b>{sum(c.points for c in auto):g} / {sum(c.max_points for c in auto):g}</b>
(+ {written:g} points of written answers, graded by your instructor)</p>{status}
<table><tr><th>graded cell</th><th>points</th><th>result</th><th>message</th></tr>{rows}</table>
{f"<h2>Notes</h2><ul>{problems}</ul>" if problems else ""}
<h2>Your notebook</h2>{''.join(cells)}</body></html>
"""


def write_feedback(out_dir, result, submission_text, test_cell_ids):
    """Write feedback/<student>/<assignment>/<notebook>.html; returns its path."""
    try:
        submission_nb = json.loads(submission_text)
        if not isinstance(submission_nb, dict):
            submission_nb = None
    except ValueError:
        submission_nb = None
    path = Path(out_dir) / result.student / result.assignment / f"{result.notebook}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_feedback(result, submission_nb, test_cell_ids))
    return path


def export_grades(out_dir, results, max_points):
    """grades.csv (one row per student, a column per notebook + total) and grades.json.

    max_points: {(assignment, notebook): max automatic + manual points}.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = sorted(max_points)
    table = {}
    for r in results:
        table.setdefault(r.student, {})[(r.assignment, r.notebook)] = r.score
    csv_path = out_dir / "grades.csv"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.writer(fh)
        total_max = sum(max_points.values())
        writer.writerow(["student"] + [f"{a}/{n} (max {max_points[(a, n)]:g})" for a, n in columns]
                        + [f"total (max {total_max:g})"])
        for student in sorted(table):
            scores = [table[student].get(col, 0.0) for col in columns]
            writer.writerow([student] + [f"{s:g}" for s in scores] + [f"{sum(scores):g}"])
    json_path = out_dir / "grades.json"
    json_path.write_text(json.dumps([r.to_dict() for r in results], indent=1))
    return csv_path, json_path
