"""Create (or reuse) the course's virtual environment, then run one of the README's jobs in it.

Needs nothing but Python 3 (standard library only), so it works on a fresh machine:

    python3 -m cs231n_lib.bootstrap demo     # the main job: grade a sample class
    python3 -m cs231n_lib.bootstrap test     # the whole test suite, notebooks included
    python3 -m cs231n_lib.bootstrap lab      # JupyterLab on the student notebooks
    python3 -m cs231n_lib.bootstrap lab --instructor [--work-dir .course]
                                             # JupyterLab with nbgrader's formgrader
    python3 -m cs231n_lib.bootstrap release  # regenerate notebooks/ from solutions/

Extra arguments after the job name are passed on (e.g. `test -k optim`, `lab --port 9000`).
The environment lives in `.venv/` (or $COURSE_VENV) and is reinstalled only when
requirements.txt or pyproject.toml change.
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
STAMP = VENV / ".course-requirements.sha256"
# One BLAS thread: two threads collapse 3-10x when the other core is busy (measured here).
ENV_DEFAULTS = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
HEADLESS_JOBS = ("demo", "test", "release")  # no screen: draw plots with the Agg backend

PYTEST_ARGS = [
    "-n", "2", "--dist", "loadscope",         # both cores; a notebook's cells stay on one worker
    "tests", "solutions",
    "--nbval", "--nbval-current-env",         # re-run every solution notebook, compare outputs
    "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
]


def venv_python():
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements_digest():
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv():
    """Make the venv and install requirements.txt, unless it is already up to date."""
    if not venv_python().exists():
        print(f"[bootstrap] creating virtual environment in {VENV}", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        except subprocess.CalledProcessError:
            sys.exit("[bootstrap] could not create a virtual environment. On Debian/Ubuntu "
                     "install it with: apt-get install python3-venv")
    digest = requirements_digest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    print("[bootstrap] installing requirements.txt (first run or requirements changed)", flush=True)
    pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run(pip + ["-r", "requirements.txt"], check=True, cwd=ROOT)
    STAMP.write_text(digest)


def lab_command(python, extra):
    """JupyterLab for a student (default) or an instructor (--instructor); returns (argv, env).

    The lab's nbgrader parts come from jupyter/student or jupyter/instructor (see its README);
    --work-dir points formgrader at another work folder (e.g. build/demo/work).
    """
    extra = list(extra)
    role = "student"
    env = {}
    if "--instructor" in extra:
        extra.remove("--instructor")
        role = "instructor"
    if "--work-dir" in extra:
        i = extra.index("--work-dir")
        if i + 1 >= len(extra):
            sys.exit("[bootstrap] --work-dir needs a folder, e.g. --work-dir build/demo/work")
        env["COURSE_WORK_DIR"] = str(Path(extra[i + 1]).resolve())
        del extra[i:i + 2]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [str(ROOT / "jupyter" / role)] + [p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p])
    command = [python, "-m", "jupyter", "lab"]
    if role == "student":
        command.append("--ServerApp.root_dir=notebooks")
    # Jupyter refuses to start as root (containers, Codespaces) unless told it is intended.
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        command.append("--allow-root")
    return command + extra, env


def job_command(job, extra):
    python = str(venv_python())
    commands = {
        "demo": [python, "-m", "cs231n_lib.course.cli", "demo"],
        "test": [python, "-m", "pytest", *PYTEST_ARGS],
        "release": [python, "-m", "cs231n_lib.course.cli", "release"],
        "python": [python],
    }
    if job == "lab":
        return lab_command(python, extra)
    if job not in commands:
        sys.exit(f"[bootstrap] unknown job {job!r}; choose one of: {', '.join(commands)}")
    return commands[job] + list(extra), {}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    command, job_env = job_command(argv[0], argv[1:])
    ensure_venv()
    env = {**ENV_DEFAULTS, **os.environ, **job_env}
    if argv[0] in HEADLESS_JOBS:
        env.setdefault("MPLBACKEND", "Agg")
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
