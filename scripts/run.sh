#!/usr/bin/env bash
# `make run`: a Huey worker beside gunicorn; stopping one (Ctrl-C) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

$BIN/huey_consumer app.jobs.huey --workers 1 --worker-type thread --quiet &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

echo "o2o-store: serving http://127.0.0.1:5000 (shop /, counter /counter/, console /console/, API /api/v1/openapi.json); Ctrl-C stops"
$BIN/gunicorn wsgi:app -c gunicorn.conf.py
