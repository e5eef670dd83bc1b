"""Execute notebooks headlessly (nbclient), one BLAS thread, outputs stored in place."""
import os
import time
from pathlib import Path

KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def execute_notebook(path, timeout=300, allow_errors=False, save=True):
    """Run a notebook top to bottom in its own folder; returns (notebook, seconds)."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    old = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)  # the kernel inherits this process's environment
    try:
        # record_timing=False, store_widget_state=False: timestamps and progress-bar widget
        # ids in the metadata would make every re-run (and the release) a diff.
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                allow_errors=allow_errors, record_timing=False,
                                store_widget_state=False,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    nb.metadata.pop("widgets", None)
    if save:
        nbformat.write(nb, str(path))
    return nb, seconds
