# syntax=docker/dockerfile:1
# The todo-api image: `docker build -t todo-api:0.1.0 .` (README, "Deploy").
#
# The install step (deploy/docker/install.sh) and the start command (CMD) are checked outside
# Docker by backend/tests/deploy/test_image.py, which reads them from this file: keep the
# install in that script and the start command in CMD.

# Build: install exactly what uv.lock pins, without the dev extra, into /app/.venv.
FROM python:3.11-slim-bookworm AS build
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY backend/src backend/src
COPY deploy/docker/install.sh deploy/docker/install.sh
RUN --mount=type=cache,target=/root/.cache sh deploy/docker/install.sh

# Runtime: the same Python (the venv's interpreter path must match), the venv, a non-root user.
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 todo \
    && useradd --system --no-log-init --uid 10001 --gid todo --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin todo
# The project is installed in the venv as a wheel (migrations included): no source tree needed.
COPY --from=build /app/.venv /app/.venv
WORKDIR /app
# ENVIRONMENT=production: the server refuses to start without auth configuration instead of
# minting tokens with a development secret. PORT and WEB_CONCURRENCY feed the CMD below.
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    PORT=8000 \
    WEB_CONCURRENCY=1
# Numeric, so that Kubernetes' runAsNonRoot can verify it. The user can write nowhere in the
# image: with DATABASE_URL set to PostgreSQL the server writes no file.
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health', timeout=4)"]
# Migrates (under an advisory lock, a no-op when up to date), then serves; `exec` makes the
# server PID 1, so `docker stop` (SIGTERM) shuts it down gracefully.
CMD ["sh", "-c", "exec todo-api serve --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\""]
