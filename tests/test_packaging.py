"""The project as a wheel: it carries the embedded MNIST subset, and the library works from an
installed wheel outside the checkout (no network: built and installed offline)."""
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation: build with this environment's setuptools (>=77, requirements.txt),
    # so the test needs no network.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(out), str(ROOT)], check=True, cwd=out)
    (path,) = out.glob("cs231n_lib-*.whl")
    return path


def test_wheel_contains_every_package_and_the_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cs231n_lib/_data/mnist_5k.npz" in names
    assert "cs231n_lib/locale/ko.json" in names   # the Korean message catalogue
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "cs231n_lib").rglob("__init__.py")}
    for package in packages:   # a new subpackage must be listed in pyproject.toml
        assert f"{package}/__init__.py" in names, f"{package} missing from the wheel"
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text


@pytest.mark.slow
def test_installed_wheel_loads_mnist_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Install with this environment's pip into the fresh venv; numpy & co. come from this
    # environment through a plain path entry (its .pth files, e.g. the editable checkout, are
    # not processed, so only the installed wheel provides cs231n_lib).
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(site), str(wheel)], check=True)
    (site / "course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = ("import cs231n_lib, cs231n_lib.data as d\n"
            "data = d.get_mnist_data(num_train=100, num_val=10, num_test=10)\n"
            "print(cs231n_lib.__file__)\nprint(data['X_train'].shape)")
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr
    where, shape = run.stdout.split("\n")[:2]
    assert where.startswith(str(site)) and not where.startswith(str(ROOT))
    assert shape.startswith("(100,")
