# The two commands a newcomer needs: `make demo` and `make test`.
# Both create their own virtualenv (.venv) and install the project into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench bench-presets bench-scale-out reliability clean vendor

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The package is installed editable, so nothing compiled its modules; with PYTHONDONTWRITEBYTECODE
# (set on many CI machines) no process ever would, and every `cutlite` start would compile ~50
# modules again (~60 ms of a cold preview). A wheel install compiles at install time; this does too.
$(VENV)/.compiled: $(BIN)/.installed $(shell find engines -name '*.py')
	$(BIN)/python -m compileall -q engines >/dev/null
	touch $@

demo: $(BIN)/.installed $(VENV)/.compiled $(VENV)/.caption-fonts
	$(BIN)/cutlite demo --out demo_out

# The studio tests drive Debian's chromium (Playwright's own browser download is not used).
$(BIN)/.chromium: $(BIN)/.installed
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "the studio tests need chromium: run 'apt-get install chromium' as root" >&2; exit 1; }
	touch $@

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

test: $(BIN)/.installed $(VENV)/.compiled $(BIN)/.chromium $(VENV)/.caption-fonts lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(BIN)/.installed  # the layers (import-linter contracts in pyproject.toml) and ruff
	$(BIN)/lint-imports
	$(BIN)/ruff check engines tests bench examples

# The studio's front-end files, from the npm registry at fixed versions (committed: installing
# the package needs no Node). Run after changing a version; review the diff of vendor/.
HLS_JS_VERSION := 1.6.15
VENDOR := engines/studio/static/vendor
vendor:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent hls.js@$(HLS_JS_VERSION) >/dev/null && tar xzf hls.js-$(HLS_JS_VERSION).tgz) && \
	mkdir -p $(VENDOR) && cp "$$tmp/package/dist/hls.min.js" $(VENDOR)/hls.min.js && \
	cp "$$tmp/package/LICENSE" $(VENDOR)/hls.js.LICENSE && \
	{ echo "hls.js $(HLS_JS_VERSION) (npm) dist/hls.min.js, licence: hls.js.LICENSE (Apache-2.0)"; \
	  echo "sha256 $$(sha256sum $(VENDOR)/hls.min.js | cut -d' ' -f1)  hls.min.js"; } > $(VENDOR)/VERSIONS.txt
	@cat $(VENDOR)/VERSIONS.txt

bench: $(BIN)/.installed $(VENV)/.compiled
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_jobs.py
	$(BIN)/python bench/bench_preview.py
	$(BIN)/python bench/bench_proxies.py
	$(BIN)/python bench/bench_interchange.py
	$(BIN)/python bench/bench_big_timeline.py
	$(BIN)/python bench/bench_batch.py
	$(BIN)/python bench/bench_motion.py
	$(BIN)/python bench/bench_looks.py
	$(BIN)/python bench/bench_effects.py

# x264/x265 preset x CRF per CPU profile: time, bitrate, SSIM, VMAF (~25 min on 2 cores; docs/presets.md).
# One profile: make bench-presets PRESET_ARGS="--profiles social_1080p"
bench-presets: $(BIN)/.installed
	$(BIN)/python bench/bench_presets.py $(PRESET_ARGS)

bench-scale-out: $(BIN)/.installed  # needs RabbitMQ on 127.0.0.1:5672
	$(BIN)/python bench/bench_scale_out.py

reliability: $(BIN)/.installed
	$(BIN)/python bench/reliability.py

clean:
	rm -rf $(VENV) demo_out .cutlite
