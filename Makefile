# Two entry points work on a fresh machine: `make demo` and `make test`.
# Both bootstrap everything first: uv (from PyPI), the locked Python environment, and the
# pinned node tools (anvil, solcjs) from npm into ./node_modules (git-ignored).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export UV_PYTHON_DOWNLOADS := never
export DO_NOT_TRACK := 1
UV := python3 -m uv
ANVIL := node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil

.PHONY: bootstrap demo test lint contracts clean-data

bootstrap: .venv/.synced $(ANVIL)

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

$(ANVIL): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@test -x $(ANVIL) && touch $(ANVIL)

## demo: devnet up, index every network, print the per-network quarterly table
demo: bootstrap
	$(UV) run depinrev demo

## test: lint and the whole test suite (unit, real anvil, real DuckDB/dbt)
test: bootstrap
	$(UV) run ruff check .
	$(UV) run pytest -q

lint: bootstrap
	$(UV) run ruff check .

## contracts: recompile contracts/src/*.sol with solcjs into contracts/build/
contracts: $(ANVIL)
	node contracts/build.mjs

clean-data:
	-$(UV) run depinrev devnet down
	rm -rf data
