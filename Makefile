PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_EX := $(VENV)/.examples-installed
STAMP_DEV := $(VENV)/.dev-installed

.PHONY: demo test install-dev install-examples lint bench clean dashboard screenshots

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_EX): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[examples]"
	touch $@

$(STAMP_DEV): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[dev,examples]"
	touch $@

install-examples: $(STAMP_EX)
install-dev: $(STAMP_DEV)

# The dashboard's chart (uPlot), graph layout (dagre) and Markdown (marked) libraries, from the npm registry
# (frontend/package-lock.json), built into the package; never committed, never loaded from a CDN.
DASH_VENDOR := src/modelplane/server/dashboard/vendor
$(DASH_VENDOR)/uPlot.iife.min.js: frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "make dashboard needs npm (Node.js): apt-get install -y nodejs npm" >&2; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(DASH_VENDOR)
	cp frontend/node_modules/uplot/dist/uPlot.iife.min.js frontend/node_modules/uplot/dist/uPlot.min.css $(DASH_VENDOR)/
	cp frontend/node_modules/uplot/LICENSE $(DASH_VENDOR)/uPlot.LICENSE
	cp frontend/node_modules/@dagrejs/dagre/dist/dagre.min.js $(DASH_VENDOR)/
	cp frontend/node_modules/@dagrejs/dagre/LICENSE $(DASH_VENDOR)/dagre.LICENSE
	cp frontend/node_modules/marked/lib/marked.umd.js $(DASH_VENDOR)/
	cp frontend/node_modules/marked/LICENSE $(DASH_VENDOR)/marked.LICENSE
dashboard: $(DASH_VENDOR)/uPlot.iife.min.js

demo: $(STAMP_EX) dashboard
	cd examples/iris && rm -rf .modelplane && ../../$(BIN)/modelplane init && \
	  ../../$(BIN)/python train.py && ../../$(BIN)/python predict.py && ../../$(BIN)/python predict.py && \
	  ../../$(BIN)/modelplane model list && \
	  ../../$(BIN)/modelplane model version list iris_classifier && \
	  ../../$(BIN)/modelplane model version artifacts iris_classifier 1 && \
	  ../../$(BIN)/modelplane model version model_objects iris_classifier 1 && \
	  ../../$(BIN)/modelplane model version runs iris_classifier 1 && \
	  ../../$(BIN)/modelplane model version metrics iris_classifier 1

test: $(STAMP_DEV) dashboard
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The pictures of docs/dashboard.md, taken by the dashboard tests from a real server in Chromium.
screenshots: $(STAMP_DEV) dashboard
	MODELPLANE_SCREENSHOTS=docs/images $(BIN)/python -m pytest -q tests/dashboard/test_screenshots.py

lint: $(STAMP_DEV)
	$(BIN)/lint-imports

bench: $(STAMP_DEV)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
