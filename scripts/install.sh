#!/usr/bin/env bash
# Set up .venv from scratch or bring it up to date: Java check, torch (CPU/CUDA), pinned install.
# Idempotent: a stamp records the inputs of the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
CONSTRAINTS=constraints/constraints-py3.11.txt
STAMP=.venv/.campaignflow-installed

bash scripts/check_java.sh
bash scripts/install_browser.sh
want=$(cat pyproject.toml "$CONSTRAINTS" scripts/install.sh scripts/install_torch.sh | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "environment up to date (.venv)"; exit 0
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; campaignflow needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "pip>=24" setuptools wheel
PIP=.venv/bin/pip PIP_CONSTRAINT="$CONSTRAINTS" bash scripts/install_torch.sh  # torch deps pinned too
.venv/bin/pip install --quiet -c "$CONSTRAINTS" -e ".[dev]"
.venv/bin/campaignflow doctor
echo "$want" > "$STAMP"
