"""Find the submissions in a folder and match each to a student and an assignment notebook.

Accepted layouts:
- nbgrader's `<student>/<assignment>/<notebook>.ipynb` (optionally under `submitted/`);
- a flat folder exported from a learning-management system: `<student>_<notebook>.ipynb`
  (any separator among `_ - .` and LMS suffixes such as `-1` after the notebook name);
- zip files of either (`<student>.zip` holding `<notebook>.ipynb` counts as that student's).
A notebook under an unexpected name is matched by its content (the answer cells' grade ids)
when that is unambiguous. Anything that cannot be matched is reported, never guessed.
"""
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_STUDENT_OK = re.compile(r"[^A-Za-z0-9_.@-]+")
_LMS_SUFFIX = r"(?:[-_ ]?\(?\d+\)?)?"
_EDITION = re.compile(r"\.(?P<language>ko)$")   # gradient_checking.ko.ipynb: the Korean edition


def edition_of(stem, text):
    """(stem without an edition suffix, language): the notebook's metadata wins over its name."""
    found = _EDITION.search(stem)
    language = found["language"] if found else "en"
    try:
        language = json.loads(text)["metadata"]["course"]["language"]
    except (ValueError, KeyError, TypeError):
        pass
    return (_EDITION.sub("", stem), language if language in ("en", "ko") else "en")


@dataclass
class Submission:
    """One student's file for one notebook of one assignment (raw text: it may be corrupt)."""
    student: str
    assignment: str
    notebook: str
    text: str
    origin: str
    notes: list = field(default_factory=list)
    language: str = "en"   # the edition the student worked in ("ko" for <stem>.ko.ipynb)


@dataclass
class Unmatched:
    origin: str
    reason: str


@dataclass
class Catalog:
    """The course's notebooks: assignment -> notebook stems, and answer grade ids per notebook."""
    notebooks: dict                      # (assignment, notebook stem) -> set of answer grade ids

    @classmethod
    def from_sources(cls, sources):
        """sources: {(assignment, stem): source notebook dict}."""
        notebooks = {}
        for key, nb in sources.items():
            notebooks[key] = {c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
                              if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
        return cls(notebooks)

    def by_stem(self, stem):
        return [key for key in self.notebooks if key[1] == stem]

    def by_content(self, text):
        """The one notebook whose answer grade ids all appear in `text`, else None."""
        try:
            cells = json.loads(text).get("cells", [])
            ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in cells}
        except (ValueError, AttributeError):
            return None
        hits = [key for key, answers in self.notebooks.items() if answers and answers <= ids]
        return hits[0] if len(hits) == 1 else None


def clean_student_id(raw):
    cleaned = _STUDENT_OK.sub("_", raw).strip("_.-")
    return cleaned or None


def _read_text(data, origin):
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, Unmatched(origin, "not a text file (binary content)")


def _entries(folder):
    """(relative posix path, bytes) of every file, with zip members expanded."""
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(folder).parts):
            continue
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        if path.suffix.lower() == ".zip":
            yield from _zip_entries(path, rel)
        else:
            yield rel, path.read_bytes(), None


def _zip_entries(path, rel):
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = PurePosixPath(info.filename)
                if info.is_dir() or name.name.startswith(".") or "__MACOSX" in name.parts:
                    continue
                # `<student>.zip` with bare notebooks inside: the zip's name is the student.
                inner = name if len(name.parts) > 1 else PurePosixPath(rel.stem) / name
                yield rel.parent / inner, archive.read(info), str(rel)
    except zipfile.BadZipFile:
        yield rel, b"", f"{rel} is not a readable zip file"


def discover(folder, catalog):
    """Match every file under `folder`; returns (submissions, unmatched)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    submissions, unmatched = [], []
    for rel, data, zip_note in _entries(folder):
        origin = f"{zip_note}:{rel}" if zip_note and not zip_note.endswith("zip file") else str(rel)
        if zip_note and zip_note.endswith("zip file"):
            unmatched.append(Unmatched(str(rel), zip_note))
            continue
        parts = rel.parts[1:] if rel.parts and rel.parts[0] == "submitted" else rel.parts
        if rel.suffix.lower() != ".ipynb":
            if rel.name not in ("timestamp.txt",):
                unmatched.append(Unmatched(origin, "not a notebook (.ipynb) file"))
            continue
        text, problem = _read_text(data, origin)
        if problem:
            unmatched.append(problem)
            continue
        match = _match(parts, text, catalog)
        if isinstance(match, Unmatched):
            match.origin = origin
            unmatched.append(match)
        else:
            student, (assignment, stem), notes = match
            _, language = edition_of(PurePosixPath(parts[-1]).stem, text)
            submissions.append(Submission(student, assignment, stem, text, origin, notes,
                                          language))
    return _deduplicate(submissions, unmatched)


def _match(parts, text, catalog):
    stem, _ = edition_of(PurePosixPath(parts[-1]).stem, text)
    if len(parts) >= 3:  # nbgrader layout: student/assignment/notebook.ipynb
        student, assignment = clean_student_id(parts[-3]), parts[-2]
        key = (assignment, stem)
        if key in catalog.notebooks and student:
            return student, key, []
        return _by_content(student, text, catalog, f"{'/'.join(parts)} is not a notebook of "
                                                     f"assignment {assignment!r}")
    if len(parts) == 2 and clean_student_id(parts[0]):
        # `<student>/<notebook>.ipynb` (e.g. inside <student>.zip), or a flat file in a folder.
        keys = catalog.by_stem(stem)
        if len(keys) == 1:
            return clean_student_id(parts[0]), keys[0], []
        flat = _match_flat(stem, text, catalog)
        if not isinstance(flat, Unmatched):
            return flat
        return Unmatched("", f"{parts[-1]} is not a course notebook name, and {parts[0]!r} may "
                             "not be a student: rename it <student>_<notebook>.ipynb")
    return _match_flat(stem, text, catalog)


def _match_flat(stem, text, catalog):
    """`<student><sep><notebook><lms suffix>`: the longest notebook name that fits wins."""
    for assignment, nb_stem in sorted(catalog.notebooks, key=lambda k: -len(k[1])):
        pattern = rf"^(?P<student>.+?)[_\-. ]+(?:{re.escape(assignment)}[_\-. ]+)?" \
                  rf"{re.escape(nb_stem)}(?:\.ko)?{_LMS_SUFFIX}$"
        found = re.match(pattern, stem, flags=re.I)
        if found and clean_student_id(found["student"]):
            return clean_student_id(found["student"]), (assignment, nb_stem), []
    return Unmatched("", f"cannot tell the student and notebook from the name {stem!r} "
                         "(expected <student>_<notebook>.ipynb)")


def _by_content(student, text, catalog, why):
    key = catalog.by_content(text) if student else None
    if key:
        return student, key, [f"{why}; matched by its answer cells to {key[0]}/{key[1]}.ipynb"]
    return Unmatched("", why)


def _deduplicate(submissions, unmatched):
    """Two files for the same student and notebook: keep neither silently — report both."""
    seen = {}
    for sub in submissions:
        seen.setdefault((sub.student, sub.assignment, sub.notebook), []).append(sub)
    kept = []
    for key, subs in seen.items():
        if len(subs) == 1:
            kept.append(subs[0])
        else:
            origins = ", ".join(s.origin for s in subs)
            unmatched.append(Unmatched(origins, f"{len(subs)} files for student {key[0]!r}, "
                                                f"notebook {key[1]}/{key[2]}: keep only one"))
    return kept, unmatched
