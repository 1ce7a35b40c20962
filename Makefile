# backprop-kit: `make demo` runs the kit, `make test` runs the tests.
# Both create .venv from pyproject.toml when it is missing (or when pyproject.toml changed).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo lectures test lint format bench release lab hub clean help

help:
	@echo "make demo    grade a sample class: collect, sandboxed grading, feedback, report"
	@echo "make lectures run the lecture examples through chainrule, step by step"
	@echo "make test    lint and run the whole test suite"
	@echo "make bench   run the benchmarks in bench/ (prints ratios against peers)"
	@echo "make release regenerate the student notebooks in notebooks/ from solutions/"
	@echo "make lab     JupyterLab on this course (formgrader and assignment list included)"
	@echo "make hub     JupyterHub on 127.0.0.1 with demo users and nbgrader's exchange (root)"
	@echo "make lint    ruff on the library, tests and benchmarks"
	@echo "make clean   remove .venv and caches"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(PY) -m autograder demo

lectures: $(STAMP)
	$(PY) -m chainrule.lectures

test: $(STAMP) lint
	$(PY) -m autograder release --check
	$(PY) -m pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(PY) -m ruff check .

format: $(STAMP)
	$(PY) -m ruff format lib autograder tests bench solutions

release: $(STAMP)
	$(PY) -m autograder release

# nbgrader reads autograder/course/nbgrader_config.py through JUPYTER_CONFIG_PATH; PATH gives it the
# venv's alembic for the gradebook.
lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(CURDIR)/autograder/course" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		$(VENV)/bin/jupyter lab

# A trial course hub (deploy/jupyterhub/): as root it builds the users' environment in
# /opt/backprop-kit-hub, creates bk-instructor and bk-student1..3, the exchange and the course in
# /srv, releases 01-graphs, and runs JupyterHub on http://127.0.0.1:8000 (password "backprop").
hub: $(STAMP)
	$(PY) deploy/jupyterhub/course_setup.py trial

bench: $(STAMP)
	cd bench && for b in bench_*.py; do echo "== $$b"; ../$(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
