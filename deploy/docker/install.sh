#!/bin/sh
# Install the API into ./.venv exactly as uv.lock pins it: no dev extra, the project itself as a
# wheel (not editable), so the venv alone runs it. The Dockerfile's build stage runs this script,
# and backend/tests/deploy/test_image.py runs the same script in a fresh directory (no Docker
# engine there), so what CI checks is what the image does.
set -eu

# The uv that .ci/run uses; pip fetches it into a throwaway venv that is removed afterwards.
UV_VERSION=0.13.9

bootstrap="$(mktemp -d)"
trap 'rm -rf "$bootstrap"' EXIT
python3 -m venv "$bootstrap/venv"
"$bootstrap/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"

# --locked: fail rather than resolve anew if uv.lock no longer matches pyproject.toml.
# Bytecode is compiled now: the image's root filesystem may be read-only at run time.
UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
  "$bootstrap/venv/bin/uv" sync --locked --no-dev --no-editable --python python3
