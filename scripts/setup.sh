#!/usr/bin/env bash
# Creates or reuses the project's virtualenv (.venv) and its npm folder (.tools) on a fresh machine, with
# only Python (3.11 or 3.12) and Node/npm present. A second run skips what is already installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ANVIL_VERSION=1.7.1

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "setup: need Python 3.11 or 3.12 (set \$PYTHON to one)" >&2
  exit 2
}

# Python: reinstall only when the pinned requirements change.
stamp_want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
stamp_file=.venv/.chainseg-installed
if [ ! -x .venv/bin/python ]; then
  python="$(pick_python)"
  echo "setup: creating .venv with $python"
  "$python" -m venv .venv
fi
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp_want" ]; then
  echo "setup: installing Python dependencies into .venv (pinned by constraints.txt)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
  echo "$stamp_want" >"$stamp_file"
fi

# anvil, the local Ethereum node, from npm into .tools/ (never global).
case "$(uname -m)" in
  x86_64 | amd64) anvil_pkg=@foundry-rs/anvil-linux-amd64 ;;
  *) echo "setup: anvil comes from npm for linux x86_64 only; set \$CHAINSEG_ANVIL to an anvil binary" >&2
     [ -n "${CHAINSEG_ANVIL:-}" ] && exit 0 || exit 2 ;;
esac
anvil_bin=".tools/node_modules/$anvil_pkg/bin/anvil"
if [ ! -x "$anvil_bin" ] || ! "$anvil_bin" --version 2>/dev/null | grep -q "Version: $ANVIL_VERSION"; then
  command -v npm >/dev/null 2>&1 || { echo "setup: npm is needed to install anvil" >&2; exit 2; }
  echo "setup: installing anvil $ANVIL_VERSION into .tools/"
  mkdir -p .tools
  npm install --silent --no-audit --no-fund --no-save --prefix .tools "$anvil_pkg@$ANVIL_VERSION" >/dev/null
fi
