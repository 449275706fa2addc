# Two entry points work on a fresh machine: `make demo` and `make test`.
# Both bootstrap everything first: uv (from PyPI), the locked Python environment, and the
# pinned node tools (anvil, solcjs) from npm into ./node_modules (git-ignored).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export UV_PYTHON_DOWNLOADS := never
export DO_NOT_TRACK := 1
UV := python3 -m uv
ANVIL := node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
# pytest-xdist workers of `make test`: two on the 2-core machine the suite is timed on (the
# long modules mostly wait on Dagster's daemon and the cluster, so two overlap those waits)
TEST_WORKERS ?= 2

.PHONY: bootstrap bytecode browser cluster-deps cluster demo test soak lint contracts clean-data bench bench-tao ui

bootstrap: .venv/.synced $(ANVIL) bytecode

# Installed with their bytecode (uv does not compile by default): where PYTHONDONTWRITEBYTECODE
# is set, as on these machines, every process otherwise compiles each module it imports from
# source, ~0.5 s of a CLI run and more for every Dagster run process (docs/benchmarks.md)
.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $@

# the project's own packages likewise (incremental: only changed modules are compiled again)
bytecode: .venv/.synced
	@$(UV) run --frozen python -m compileall -q -j 0 depinrev chains indexers warehouse pipelines devnet bench

$(ANVIL): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@test -x $(ANVIL) && touch $(ANVIL)

## demo: devnet up, index every network, print the per-network quarterly table
demo: bootstrap
	$(UV) run depinrev demo

# Debian's chromium + chromedriver for the web-UI test (headless; needs root for apt-get)
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

# Debian's PostgreSQL and Redis for the cluster (and its test case; needs root for apt-get)
cluster-deps:
	@test -x /usr/bin/redis-server && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || { \
	  apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql; }

## cluster: PostgreSQL, Redis, two Celery workers, the Dagster daemon and web UI on 127.0.0.1
## (data/cluster/; UI on http://127.0.0.1:3100); `depinrev cluster status|down` (docs/scaling.md)
cluster: bootstrap cluster-deps
	$(UV) run depinrev cluster up

## test: lint and the whole test suite (unit, real anvil, real DuckDB/dbt, Dagster, Chromium),
## on $(TEST_WORKERS) xdist workers, a test module per worker at a time
test: bootstrap browser cluster-deps
	$(UV) run ruff check .
	$(UV) run pytest -q -n $(TEST_WORKERS) --dist loadfile

## soak: the long repeated trials left out of `make test` (pytest marker `soak`): every RPC fault
## class x 10 seeds x chain kind (docs/reliability.md), kill trials of index and build
soak: bootstrap cluster-deps
	$(UV) run pytest -q -m soak

lint: bootstrap
	$(UV) run ruff check .

## bench: devnet of ~1.1M logs (built once, cached in bench/.cache), raw RPC ceiling vs cryo vs
## the indexer, warehouse build and query, memory runs; writes docs/benchmarks.md; then the
## Bittensor year of bench-tao
bench: bootstrap
	$(UV) run python bench/run.py
	$(UV) run python bench/warehouse_builds.py
	$(UV) run python bench/real_networks.py
	$(UV) run python bench/tao.py --days 3

## bench-tao: a synthetic Finney year: days indexed from a replay node (throughput, RSS per
## day), a 365-day lake (~87M rows) in the exact lake schema, the warehouse built on it from
## scratch and with one day added (docs/benchmarks.md, "Bittensor"); about 14 minutes on an
## idle machine. `uv run python bench/tao.py --days 365` indexes the whole year from the
## replay node first (about 20 minutes more)
bench-tao: bootstrap
	$(UV) run python bench/tao.py --days 3

## contracts: recompile contracts/src/*.sol with solcjs into contracts/build/
contracts: $(ANVIL)
	node contracts/build.mjs

clean-data:
	-$(UV) run depinrev devnet down
	rm -rf data

## ui: the Dagster web UI on http://127.0.0.1:3000 against the devnet (DAGSTER_HOME=data/dagster)
ui: bootstrap
	$(UV) run depinrev ui
