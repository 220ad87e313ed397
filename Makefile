# The two front-door commands (README): `make run` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PACKAGE_STAMP := $(VENV)/.installed-package

.PHONY: run test test-fast lint typecheck bench clean serve package wheel icons screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[gui]"
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP) $(TEST_STAMP)

$(PACKAGE_STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[package]"
	touch $(STAMP) $(PACKAGE_STAMP)

# The `spendtray` command lives in .venv/bin, which is not on PATH: say how to reach it first.
REACH = @echo "spendtray: the command is $(CURDIR)/$(BIN)/spendtray; to type \`spendtray …\` in another terminal: source $(CURDIR)/$(BIN)/activate"

run: $(STAMP)
	$(REACH)
	$(BIN)/spendtray

serve: $(STAMP)
	$(REACH)
	$(BIN)/spendtray serve

test: $(TEST_STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q

# The fast tier: everything but the slow and packaging tests, in 4 processes (its tests mostly
# wait on servers, threads and timers: ~1.8 min on 2 cores, ~4.9 min in one process).
test-fast: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -n 4 -m "not slow and not packaging"

lint: $(TEST_STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

bench: $(TEST_STAMP)
	$(BIN)/python bench/ingest.py

# The PyInstaller bundle (onedir, windowed): dist/spendtray/spendtray (+ dist/Spendtray.app on macOS).
package: $(PACKAGE_STAMP)
	$(BIN)/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/spendtray.spec
	dist/spendtray/spendtray --version

# The wheel (icons, tokenizer files and price data inside): dist/spendtray-<version>-py3-none-any.whl
wheel: | $(BIN)/python
	rm -rf build/lib  # setuptools would otherwise package files deleted from app/ since the last build
	$(BIN)/pip wheel --no-deps --quiet -w dist .

# Re-render resources/icons/*.svg to PNG/ICO/ICNS; re-take the README's screenshots.
icons: $(STAMP)
	$(BIN)/python packaging/render_icons.py

screenshots: $(STAMP)
	$(BIN)/python packaging/screenshots.py

clean:
	rm -rf $(VENV) build dist app/*.egg-info
