#!/usr/bin/env bash
# Idempotent set-up on Debian with Python 3.11: system packages, the .venv, pinned Python packages.
#   scripts/setup.sh app    runtime only
#   scripts/setup.sh test   runtime + test tools (espeak-ng, chromium, pytest, playwright, moto)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-app}"

apt_packages=(ffmpeg)
[ "$mode" = test ] && apt_packages+=(espeak-ng libespeak-ng1 chromium curl)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python_bin="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $python_bin"
  if ! "$python_bin" -m venv .venv 2>/dev/null; then
    # Debian splits venv support out of the interpreter package.
    rm -rf .venv
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv python3-dev >/dev/null
    "$python_bin" -m venv .venv
  fi
  .venv/bin/python -m pip install -q --upgrade pip
fi

req=requirements.txt; [ "$mode" = test ] && req=requirements-test.txt
stamp=".venv/.installed-$mode"
# Every pin lives in these two files (requirements.txt stands alone: the Spaces builder installs only it).
digest=$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "setup: installing Python packages from $req (first run takes a few minutes; pip caches downloads)"
  .venv/bin/python -m pip install -q -r "$req"
  echo "$digest" > "$stamp"
fi

# The README's JavaScript client example runs in the tests with Node's @gradio/client (tests/js).
if [ "$mode" = test ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing Node.js (nodejs, npm) for the JavaScript client test"
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  js_stamp=tests/js/node_modules/.installed
  js_digest=$(sha256sum tests/js/package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$js_stamp" 2>/dev/null)" != "$js_digest" ]; then
    echo "setup: installing @gradio/client (npm ci in tests/js)"
    npm ci --prefix tests/js --no-audit --no-fund --silent
    echo "$js_digest" > "$js_stamp"
  fi
fi

# WhisperX splits sentences with nltk's punkt_tab, which no package ships; fetch it once for the app
# (the tests build their own). Offline this fails fast and WhisperX stays off with the reason shown.
has_punkt() { .venv/bin/python -c "import nltk; nltk.data.find('tokenizers/punkt_tab/english/')" 2>/dev/null; }
if [ "$mode" = app ] && ! has_punkt; then
  # The downloader exits 0 even when it fails, so check again afterwards.
  timeout 120 .venv/bin/python -m nltk.downloader -q -d .venv/nltk_data punkt_tab </dev/null >/dev/null 2>&1 || true
  has_punkt || echo "setup: could not download nltk punkt_tab (offline?): WhisperX alignment stays off; the other aligners work."
fi
