# The two commands a newcomer needs: `make demo` and `make test`.
# Both create their own virtualenv (.venv) and install the project into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench bench-scale-out reliability clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/cutlite demo --out demo_out

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_jobs.py
	$(BIN)/python bench/bench_preview.py
	$(BIN)/python bench/bench_big_timeline.py

bench-scale-out: $(BIN)/.installed  # needs RabbitMQ on 127.0.0.1:5672
	$(BIN)/python bench/bench_scale_out.py

reliability: $(BIN)/.installed
	$(BIN)/python bench/reliability.py

clean:
	rm -rf $(VENV) demo_out .cutlite
