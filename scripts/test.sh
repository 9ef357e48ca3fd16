#!/usr/bin/env bash
# The whole test suite, set-up included: lint, then pytest against real anvil nodes, on two workers (a
# seeding anvil or a dbt build keeps one core busy, not two; tests sharing a costly fixture stay on one
# worker: tests/conftest.py). Extra arguments go to pytest (`-n 0`: one process).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -n 2 "$@"
