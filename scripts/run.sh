#!/usr/bin/env bash
# `make run`: gunicorn and a Huey worker side by side. Ctrl-C (or a TERM) stops both and exits 0; if one of
# them stops by itself, the other is stopped too and its status is the script's.
#
# BIND (default 127.0.0.1:5000) is where gunicorn listens (gunicorn.conf.py reads it too); the URLs printed
# follow it (0.0.0.0 is printed as 127.0.0.1), and so do the links the app makes (QR codes, WeChat) unless
# APP_BASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}

export BIND=${BIND:-127.0.0.1:5000}
host=${BIND%:*}
port=${BIND##*:}
case "$host" in
  0.0.0.0 | "" | "[::]" | "::") host=127.0.0.1 ;;
esac
url="http://$host:$port"
links=${APP_BASE_URL:-$url}  # app/config.py derives the same from BIND when APP_BASE_URL is unset

# Started in the background, so Ctrl-C reaches this script's trap (and, from a terminal, the two children too).
"$BIN/huey_consumer" app.jobs.huey --workers 1 --worker-type thread --quiet &
worker=$!
"$BIN/gunicorn" wsgi:app -c gunicorn.conf.py &
web=$!

stop_both() {
  kill -TERM "$web" "$worker" 2>/dev/null || true
  wait "$web" 2>/dev/null || true
  wait "$worker" 2>/dev/null || true
}

on_signal() {
  trap - INT TERM
  stop_both
  exit 0  # stopped as asked: not an error for make
}
trap on_signal INT TERM

echo "o2o-store: serving $url/ (shop /, counter /counter/, console /console/, API /api/v1/openapi.json); links $links; Ctrl-C stops"

set +e
wait -n "$web" "$worker"
status=$?
set -e
trap - INT TERM
stop_both
exit "$status"
