#!/usr/bin/env bash
# Install payerbrief in .venv and run the main job on the bundled real data.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[charts]'
.venv/bin/payerbrief demo "$@"
