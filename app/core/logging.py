"""Structured request logging: one JSON line per request, carrying a request id."""
from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from flask import Flask, g, request

log = logging.getLogger("o2o")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def event(message: str, level: int = logging.INFO, **fields) -> None:
    """Log a structured event; the current request id is added when there is one."""
    try:
        fields.setdefault("request_id", g.request_id)
    except (AttributeError, RuntimeError):
        pass
    log.log(level, message, extra={"fields": fields})


def init_app(app: Flask) -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
        g.t0 = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        if request.path.startswith("/static/"):
            return response
        ms = (time.perf_counter() - g.get("t0", time.perf_counter())) * 1000
        log.info(
            "request",
            extra={"fields": {
                "request_id": g.get("request_id"), "method": request.method, "path": request.path,
                "status": response.status_code, "ms": round(ms, 1),
            }},
        )
        return response
