# The two commands a user needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH := torch==2.13.0
# The LangChain and LlamaIndex adapters: separate distributions, installed editable beside mmrag.
INTEGRATIONS := -e integrations/langchain -e integrations/llama_index
INTEGRATIONS_TEST := -e 'integrations/langchain[test]' -e 'integrations/llama_index[test]'
INTEGRATION_PROJECTS := integrations/langchain/pyproject.toml integrations/llama_index/pyproject.toml
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test install install-dev data clean

$(VENV)/.installed: pyproject.toml $(INTEGRATION_PROJECTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[all]' $(INTEGRATIONS) $(TORCH)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -e '.[all,dev]' $(INTEGRATIONS_TEST) $(TORCH)
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(PY) examples/demo.py

# Fast checks first, then the slow ones in their own time-bounded step
# (exit code 5 means no test carries the marker yet, which is fine).
test: install-dev
	$(PY) -m pytest -q -m "not slow"
	timeout 900 $(PY) -m pytest -q -m slow || [ $$? -eq 5 ]

data: install-dev
	$(PY) examples/make_data.py

clean:
	rm -rf $(VENV) .mmrag
