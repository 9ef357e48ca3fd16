#!/usr/bin/env bash
# The main job on the embedded default: set up if needed, then run the nightly pipeline against a local
# anvil devnet seeded with the simulated marketplace. Extra arguments go to `chainseg run`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/chainseg run "$@"
