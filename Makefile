# `make demo` installs and runs the main job; `make test` installs and runs the tests
# (the docstring examples of skmm included); `make test-min` runs them again on the
# oldest numpy, scipy, scikit-learn and joblib that pyproject.toml admits
# (constraints-min.txt); `make lint` runs flake8 (setup.cfg).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENV_MIN := .venv-min
STAMP_MIN := $(VENV_MIN)/.installed

.PHONY: install demo test test-min lint docs clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -c constraints-dev.txt -e ".[test,doc,plot,dask,lint,mofa]"
	touch $(STAMP)

$(STAMP_MIN): pyproject.toml constraints-min.txt
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --upgrade pip
	$(VENV_MIN)/bin/python -m pip install -c constraints-min.txt -e ".[test]"
	touch $(STAMP_MIN)

demo: install
	$(PY) -m skmm benchmark --quick --n-jobs 2

test: install
	$(PY) -m pytest -n 2 --dist loadgroup -m "not dask" --doctest-modules tests skmm
	$(PY) -m pytest -p no:xdist -m dask

test-min: $(STAMP_MIN)
	$(VENV_MIN)/bin/python -m pytest -n 2 --dist loadgroup -m "not dask" tests

lint: install
	$(PY) -m flake8 skmm tests benchmarks examples doc/conf.py

docs: install
	rm -rf doc/_build doc/auto_examples doc/generated
	$(PY) -m sphinx -W --keep-going -b html doc doc/_build/html
	@echo "Docs built: doc/_build/html/index.html"

clean:
	rm -rf $(VENV) $(VENV_MIN) doc/_build doc/auto_examples doc/generated skmm.egg-info
