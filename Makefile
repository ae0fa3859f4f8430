# Storyline: `make run` (embedded default, no servers) and `make test` (real Kafka + MongoDB-wire).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
KAFKA_PORT ?= 19092
MONGO_PORT ?= 27018
export KAFKA_PORT MONGO_PORT

.PHONY: js-deps lint test-fast faults soak bench bench-extract bench-reextract bench-real bench-rebuild bench-query bench-sse tools-check install run test test-only servers-up servers-down clean evaluate

$(BIN)/storyline: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/storyline

run: install
	$(BIN)/storyline serve

# Debian's docker-compose validates the compose file without an engine; Debian's chromium runs the
# page test (Playwright drives it; browsers are never downloaded); Java, Maven and Go
# are on the machine image and fetch Kafka and FerretDB from their registries (cached in .cache/).
tools-check:
	@command -v docker-compose >/dev/null || { \
	  echo "installing Debian's docker-compose (validator only)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null) \
	  || echo "warning: could not install docker-compose; the compose test will say so"; }
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium (headless browser for the editors' page test)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the page test will say so"; }

# TimelineJS for its browser test, from npm with the committed lock file (tests/js/package-lock.json);
# never vendored. Re-installed only when the lock file changes.
JS_DIR := tests/js
$(JS_DIR)/node_modules/.package-lock.json: $(JS_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "warning: npm is missing; the TimelineJS test will say so"; exit 0; }; \
	  echo "installing TimelineJS from npm (tests/js)"; \
	  npm ci --prefix $(JS_DIR) --no-audit --no-fund --loglevel=error \
	  || echo "warning: npm ci failed in $(JS_DIR); the TimelineJS test will say so"

js-deps: $(JS_DIR)/node_modules/.package-lock.json


# Lint and types first; a finding fails `make test` (config in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The fast tier: the domain, the store contract on SQLite and in memory, extraction rules, story
# matching, the embedded system, and the HTTP contract (schemas, 4xx shapes, authentication, OpenAPI)
# through Flask test clients; no servers, no corpus scoring. Under a minute.
FAST_TESTS ?= tests/test_store_contract.py tests/test_hot_path.py tests/test_legacy_store.py tests/test_extraction.py \
  tests/test_stories.py tests/test_readings.py tests/test_relay_topics.py \
  tests/test_input.py tests/test_auth.py tests/test_api_contract.py tests/test_live_edges.py \
  tests/test_story_sources.py tests/test_repost.py
FAST_TESTS += tests/test_entries_domain.py tests/test_timeline_kept.py
test-fast: install
	STORYLINE_FAST=1 $(BIN)/python -m pytest -p no:cacheprovider -q -k "not real and not corpus_score" \
	  $(FAST_TESTS) $(PYTEST_ARGS)


test: install tools-check js-deps lint
	tools/servers.sh start
	STORYLINE_TEST_KAFKA=127.0.0.1:$(KAFKA_PORT) STORYLINE_TEST_MONGO=127.0.0.1:$(MONGO_PORT) \
	  $(BIN)/python -m pytest -p no:cacheprovider -rA $(PYTEST_ARGS); \
	  status=$$?; tools/servers.sh stop; exit $$status

# The fault suites alone, larger (STORYLINE_FAULT_SCALE multiplies their sizes; make test runs them at 1),
# on the three-node cluster (replication 3, min ISR 2) and the MongoDB-wire server, then the table:
# scenario, articles accepted, events expected, events in Kafka, events in the timeline, lost,
# doubled, seconds to recover.
FAULT_SCALE ?= 4
faults: install
	tools/servers.sh start-cluster
	tools/servers.sh start-mongo || { tools/servers.sh stop-cluster; exit 1; }
	boot=$$(tools/servers.sh cluster-bootstrap); \
	  STORYLINE_TEST_KAFKA=$$boot STORYLINE_TEST_CLUSTER=$$boot STORYLINE_TEST_MONGO=127.0.0.1:$(MONGO_PORT) \
	  STORYLINE_FAULT_SCALE=$(FAULT_SCALE) $(BIN)/python -m pytest -p no:cacheprovider -q \
	    tests/test_faults.py tests/test_cluster_faults.py $(PYTEST_ARGS); \
	  status=$$?; tools/servers.sh stop-cluster; tools/servers.sh stop-mongo; \
	  echo; column -t -s '|' -o '|' tests/output/faults.txt; exit $$status

# The soak (not in make test): gunicorn ingest (2 workers), two projectors and gunicorn query as
# separate processes on the cluster and the MongoDB-wire server, steady traffic for SOAK_MINUTES;
# prints a row a minute and the verdict (bench/soak.py). SOAK_RATE: articles per second.
SOAK_MINUTES ?= 20
SOAK_RATE ?= 6
soak: install
	tools/servers.sh start-cluster
	tools/servers.sh start-mongo || { tools/servers.sh stop-cluster; exit 1; }
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE) \
	  --kafka $$(tools/servers.sh cluster-bootstrap) --mongo 127.0.0.1:$(MONGO_PORT); \
	  status=$$?; tools/servers.sh stop-cluster; tools/servers.sh stop-mongo; exit $$status

# Scores extraction with the shared scorer (../shared/corpus/evaluate.py) on both sample sets and on
# our own test articles, in one process and one spaCy load (bench/evaluate.py); -v lists every miss.
EVALUATE_ARGS ?=
evaluate: install
	$(BIN)/python -m bench.evaluate $(EVALUATE_ARGS)

# Extraction throughput against a bare spaCy parse of the same text, in one run (prints, asserts nothing).
BENCH_ROUNDS ?= 5
bench-extract: install
	$(BIN)/python bench/extraction.py --rounds $(BENCH_ROUNDS)

# `storyline reextract` over REEXTRACT_ARTICLES stored articles (embedded log), against the bare
# extraction rate of the same texts measured in the same run (prints, asserts nothing).
REEXTRACT_ARTICLES ?= 5000
bench-reextract: install
	STORYLINE_DATA_DIR=$$(mktemp -d) $(BIN)/python -m bench.reextract $(REEXTRACT_ARTICLES)

clean:
	tools/servers.sh stop || true
	tools/servers.sh stop-cluster || true
	rm -rf .storyline .cache/run

# Benchmarks print figures; they assert nothing. BENCH_EVENTS sets the events per round.
# bench-real runs the same against Kafka and the MongoDB-wire server (REAL_BENCH_EVENTS per round).
BENCH_EVENTS ?= 20000
REAL_BENCH_EVENTS ?= 5000
bench: install
	STORYLINE_DATA_DIR=$$(mktemp -d) $(BIN)/python -m bench.projection $(BENCH_EVENTS)

# bench-rebuild: time to rebuild from a log of REBUILD_EVENTS (the issue's figure is 1,000,000).
REBUILD_EVENTS ?= 100000
bench-rebuild: install
	STORYLINE_DATA_DIR=$$(mktemp -d) $(BIN)/python -m bench.rebuild $(REBUILD_EVENTS)

bench-real: install
	tools/servers.sh start
	STORYLINE_LOG=kafka://127.0.0.1:$(KAFKA_PORT) STORYLINE_STORE=mongodb://127.0.0.1:$(MONGO_PORT)/storyline_bench \
	  timeout 900 $(BIN)/python -m bench.projection $(REAL_BENCH_EVENTS); status=$$?; tools/servers.sh stop; exit $$status

# Query latency under a real gunicorn (3 workers) against the raw store query, on the embedded
# SQLite store and then the test MongoDB-wire server (SecantusDB); also the stories list's
# requests/s. BENCH_QUERY_EVENTS sets the story size.
BENCH_QUERY_EVENTS ?= 1000
bench-query: install
	STORYLINE_STORE=file://$$(mktemp -d) STORYLINE_DATA_DIR=$$(mktemp -d) \
	  timeout 600 $(BIN)/python -m bench.query_latency $(BENCH_QUERY_EVENTS)
	tools/servers.sh start
	STORYLINE_STORE=mongodb://127.0.0.1:$(MONGO_PORT)/storyline_bench_query \
	  timeout 600 $(BIN)/python -m bench.query_latency $(BENCH_QUERY_EVENTS); status=$$?; tools/servers.sh stop; exit $$status

# Concurrent SSE clients one query replica (deploy/gunicorn/query.conf.py) holds with delivery p99 < 1 s,
# on the test MongoDB-wire server; SSE_LEVELS sets the client counts tried.
SSE_LEVELS ?= 50,100,200,300,400
bench-sse: install
	tools/servers.sh start
	STORYLINE_STORE=mongodb://127.0.0.1:$(MONGO_PORT)/storyline_bench_sse \
	  timeout 900 $(BIN)/python -m bench.sse $(SSE_LEVELS); status=$$?; tools/servers.sh stop; exit $$status

# bench-observability: what request ids, metrics and the JSON access line add per request.
bench-observability: install
	$(BIN)/python -m bench.observability
