"""Keep the work folder (gradebook, autograded copies, exports) as it was before grading.

Student code cannot reach the work folder when workers are isolated; this is the second wall,
and the only one with `--no-isolation`. `Guard(work_dir)` snapshots the folder in this process's
memory (where no worker can reach it) before any student code runs. `changed()` is cheap
enough to call after every graded submission (it hashes the gradebook and lists the top level);
`full_check()` compares every file. `restore()` puts back every snapshotted byte, deletes what
appeared, and says what it did, so grading can go on and write every honest result.
"""
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

GRADEBOOK = "gradebook.db"
MEMORY_BUDGET = 256 * 2**20   # bytes kept for restoring; larger folders are checked by hash


def _digest(data):
    return hashlib.sha256(data).hexdigest()


@dataclass
class Entry:
    digest: str
    data: bytes = None        # None: over the budget, detectable but not restorable


@dataclass
class Guard:
    work_dir: Path
    files: dict = field(default_factory=dict)     # relative path -> Entry
    dirs: set = field(default_factory=set)

    def __post_init__(self):
        self.work_dir = Path(self.work_dir)
        self.snapshot()

    def snapshot(self):
        """Remember every file (bytes within the budget, the gradebook first) and folder."""
        self.files, self.dirs, kept = {}, set(), 0
        paths = sorted(self._walk(), key=lambda rel: (not rel.startswith(GRADEBOOK), rel))
        for rel in paths:
            path = self.work_dir / rel
            if path.is_dir() and not path.is_symlink():
                self.dirs.add(rel)
                continue
            data = path.read_bytes()
            keep = kept + len(data) <= MEMORY_BUDGET
            kept += len(data) if keep else 0
            self.files[rel] = Entry(_digest(data), data if keep else None)

    def _walk(self, top_only=False):
        """Relative paths under the work folder (not following links)."""
        if top_only:
            return sorted(p.name for p in self.work_dir.iterdir())
        found = []
        for folder, dirnames, filenames in os.walk(self.work_dir, followlinks=False):
            base = Path(folder).relative_to(self.work_dir)
            found += [(base / name).as_posix() for name in dirnames + filenames]
        return found

    def _differs(self, rel):
        path = self.work_dir / rel
        entry = self.files.get(rel)
        if entry is None:
            return rel not in self.dirs or not path.is_dir() or path.is_symlink()
        if path.is_symlink() or not path.is_file():
            return True
        return _digest(path.read_bytes()) != entry.digest

    def changed(self):
        """Quick check: the gradebook files and the top level of the folder."""
        top = set(self._walk(top_only=True))
        before = {rel for rel in list(self.files) + list(self.dirs) if "/" not in rel}
        suspects = (top ^ before) | {rel for rel in top & before
                                     if rel.startswith(GRADEBOOK) and self._differs(rel)}
        return sorted(suspects)

    def full_check(self):
        """Every file and folder that was added, removed or changed since the snapshot."""
        now = set(self._walk())
        before = set(self.files) | self.dirs
        return sorted((now ^ before) | {rel for rel in now & before if self._differs(rel)})

    def restore(self, changes):
        """Undo `changes` (from changed()/full_check()); returns the paths it could not undo."""
        lost = []
        for rel in sorted(changes, key=lambda r: r.count("/"), reverse=True):
            path = self.work_dir / rel
            if rel in self.dirs:
                if path.is_symlink() or path.is_file():
                    path.unlink()
                path.mkdir(parents=True, exist_ok=True)
                continue
            _remove(path)
            entry = self.files.get(rel)
            if entry is None:
                continue                      # appeared during grading: removed
            if entry.data is None:
                lost.append(rel)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(entry.data)
        # Folders that were removed held files: put those back too.
        for rel, entry in self.files.items():
            path = self.work_dir / rel
            if not path.exists() and entry.data is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(entry.data)
        return lost


def _remove(path):
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
