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

demo: $(BIN)/.installed $(VENV)/.caption-fonts
	$(BIN)/cutlite demo --out demo_out

# Caption fallback fonts (CJK, emoji) are Debian packages: installed where apt-get and root are
# available; elsewhere captions still render, with a warning, and those scripts show as boxes.
CAPTION_FONT_FILES := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
	/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf
$(VENV)/.caption-fonts: $(BIN)/.installed
	@if ls $(CAPTION_FONT_FILES) >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			fonts-noto-cjk fonts-symbola) || echo "warning: could not install fonts-noto-cjk fonts-symbola"; \
	else echo "note: install fonts-noto-cjk and fonts-symbola for CJK and emoji captions"; fi
	touch $@

test: $(BIN)/.installed $(VENV)/.caption-fonts
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_jobs.py
	$(BIN)/python bench/bench_preview.py

bench-scale-out: $(BIN)/.installed  # needs RabbitMQ on 127.0.0.1:5672
	$(BIN)/python bench/bench_scale_out.py

reliability: $(BIN)/.installed
	$(BIN)/python bench/reliability.py

clean:
	rm -rf $(VENV) demo_out .cutlite
