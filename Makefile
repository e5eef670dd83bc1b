# Thin wrappers around the README commands; each creates or reuses .venv itself.
# Extra arguments go in ARGS, e.g. `make lab ARGS="--port 9000"`.
PYTHON ?= python3
BOOT = $(PYTHON) -m cs231n_lib.bootstrap

.PHONY: demo test lab lab-instructor release bench venv clean

demo:      ## main job: grade a sample class and print the gradebook
	$(BOOT) demo $(ARGS)

test:      ## the full test suite (library, notebooks, release sync, grading)
	$(BOOT) test $(ARGS)

lab:       ## JupyterLab on the student notebooks (students' tools only; works as root)
	$(BOOT) lab $(ARGS)

lab-instructor:  ## JupyterLab with formgrader on the gradebook in .course/ (or ARGS="--work-dir DIR")
	$(BOOT) lab --instructor $(ARGS)

release:   ## regenerate notebooks/ from solutions/
	$(BOOT) release

bench:     ## library vs PyTorch CPU training throughput (installs torch in .venv)
	.venv/bin/python -m pip install -q torch==2.13.0
	OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_training.py

venv:
	$(BOOT) python -c "print('virtual environment ready')"

clean:
	rm -rf .course build .pytest_cache
