#!/usr/bin/env bash
# Install payerbrief with its development tools in .venv, then lint, type-check and test.
# The browser tests need Chromium, Playwright and axe-core: scripts/browser-setup.sh
# installs them (Debian's chromium as root; nothing is downloaded by Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
bash scripts/browser-setup.sh
.venv/bin/ruff format --check src tests bench
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/pytest -q "$@"
