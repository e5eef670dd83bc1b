# Thin wrappers around the README commands; each creates or reuses .venv itself.
PYTHON ?= python3
BOOT = $(PYTHON) -m cs231n_lib.bootstrap

.PHONY: demo test lab release bench venv clean

demo:      ## main job: grade a sample class and print the gradebook
	$(BOOT) demo

test:      ## the full test suite (library, notebooks, release sync, grading)
	$(BOOT) test

lab:       ## JupyterLab on the student notebooks
	$(BOOT) lab

release:   ## regenerate notebooks/ from solutions/
	$(BOOT) release

bench:     ## library vs PyTorch CPU training throughput (installs torch in .venv)
	.venv/bin/python -m pip install -q torch==2.13.0
	OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_training.py

venv:
	$(BOOT) python -c "print('virtual environment ready')"

clean:
	rm -rf .course build .pytest_cache
