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

.PHONY: demo test install install-dev install-bench bench data clean

$(VENV)/.installed: pyproject.toml $(INTEGRATION_PROJECTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[all]' $(INTEGRATIONS) $(TORCH)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -e '.[all,dev,msg]' $(INTEGRATIONS_TEST) $(TORCH)
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(PIP) install -q -e '.[all,dev,bench]' $(TORCH)
	# no deps: its metadata pins pymilvus<3, but Milvus Lite 3.2 needs pymilvus 3 (the adapter works with it)
	$(PIP) install -q --no-deps llama-index-vector-stores-milvus==1.2.0
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-bench: $(VENV)/.installed-bench

demo: install
	$(PY) examples/demo.py

# Fast checks first, then the slow ones in their own time-bounded step
# (exit code 5 means no test carries the marker yet, which is fine).
# Four workers even on two cores: most test time is spent waiting for Milvus Lite
# servers to start and answer (the fast step used 1m12s of CPU in 4m07s of wall
# time), so workers overlap the waits; one math thread each keeps torch from
# oversubscribing the cores.
TEST_WORKERS ?= 4
PYTEST := env OMP_NUM_THREADS=1 $(PY) -m pytest -q -n $(TEST_WORKERS)
test: install-dev install-bench
	$(PYTEST) -m "not slow"
	timeout 900 $(PYTEST) -m slow || [ $$? -eq 5 ]

# All benchmarks, or one part: make bench PART=ingest; QUICK=1 for tiny sizes. A full run took about
# 66 minutes on an idle 2-core machine (2026-11-23; the longest parts: retrieval_quality 15, query_latency 13,
# ingest_throughput 12.5, embed_throughput 10); each part runs alone in 0.1-15 minutes.
bench: install-bench
	$(PY) benchmarks/run_all.py $(if $(PART),--part $(PART)) $(if $(QUICK),--quick)

data: install-dev
	$(PY) examples/make_data.py

clean:
	rm -rf $(VENV) .mmrag
