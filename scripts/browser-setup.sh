#!/usr/bin/env bash
# Install what the browser tests need: Debian's Chromium, Playwright for Python
# (the package only: it drives /usr/bin/chromium, so `playwright install` is
# never run) and axe-core from the npm registry into .tools/browser.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium
fi

if ! .venv/bin/python -c "import playwright" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check 'playwright>=1.45'
fi

if [ ! -f .tools/browser/node_modules/axe-core/axe.min.js ]; then
    mkdir -p .tools/browser
    npm install --prefix .tools/browser --no-audit --no-fund --no-save 'axe-core@^4.10'
fi
