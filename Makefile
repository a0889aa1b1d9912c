# Mend: `make run` serves the demo, `make test` runs everything. Nothing else is needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
HASH := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-run-$(HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(HASH)

.PHONY: run test lint install install-dev browser clean bench messages system

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# What serving needs (`make run`); the test and lint tools come on top with `make test` and `make lint`.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	rm -f $(VENV)/.installed-run-*
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-dev-*
	touch $(DEV_STAMP)

# Debian's gettext (msgfmt, xgettext) and Noto fonts (every script of the agreement PDF), when missing and we are root.
system:
	@if ! command -v msgfmt >/dev/null || [ ! -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext fonts-noto-core) >/dev/null \
	      || echo "Could not install gettext and fonts-noto-core."; \
	  else echo "Install gettext and fonts-noto-core (Debian) for the translations and PDFs."; fi; \
	fi

# The translations (docs/languages.md): each .po compiled to .mo, then the browser modules' catalogues.
LOCALES := es fr ar
MO := $(patsubst %.po,%.mo,$(wildcard mend/locale/*/LC_MESSAGES/*.po))
JSI18N := mend/static/jsi18n/.built

mend/locale/%.mo: mend/locale/%.po | system
	msgfmt --check -o $@ $<

$(JSI18N): $(MO) | $(STAMP)
	$(BIN)/mend compilejsi18n -v 0
	touch $@

install: $(STAMP) $(MO) $(JSI18N)

install-dev: install $(DEV_STAMP)

# After changing or adding words: refresh every language's catalogues from the code (then translate them).
messages: install
	cd mend && ../$(BIN)/mend makemessages $(addprefix -l ,$(LOCALES)) --no-obsolete --add-location file -i 'static/jsi18n/*' -v 0
	cd mend && ../$(BIN)/mend makemessages -d djangojs $(addprefix -l ,$(LOCALES)) --no-obsolete --add-location file -i 'static/jsi18n/*' -v 0

run: install
	$(BIN)/mend migrate --no-input -v 0
	MEND_DEMO=1 $(BIN)/mend demo
	MEND_DEMO=1 $(BIN)/mend serve --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser journeys; installed when missing and we are allowed to (root).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	      || echo "Could not install chromium; browser journeys will be skipped unless MEND_REQUIRE_SERVICES=1."; \
	  else echo "No /usr/bin/chromium and no root: browser journeys will be skipped."; fi; \
	fi

# ruff, then the layers of docs/layers.md (the import-linter contract in pyproject.toml).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache

test: install-dev browser lint
	bash scripts/test-all.sh

# Mend against bare Django and Channels baselines, embedded and (with PostgreSQL and Redis) scaled:
# BENCH lines and bench/results/latest.md. BENCH_QUICK=1 for a short smoke run (bench/README.md).
bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
