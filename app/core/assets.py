"""Versioned URLs for files under static/, so that browsers keep them for a year and a deploy still
reaches every phone at once.

`static_url("shop/shop.css")` is `/static/shop/shop.css?v=<first 12 hex digits of its SHA-256>`. The
hash is of the content, so every machine behind a load balancer gives the same URL for the same file,
and a changed file gets a new URL. A request whose `v` is the file's current hash is answered with
`Cache-Control: public, max-age=31536000, immutable`; any other request for a static file (no `v`, or
the hash of an older version) keeps the one-day cache (app.core.compression).

Hashes are computed once per file and process; with `DEBUG` (the development server reloading templates)
they are recomputed whenever the file's modification time changes.
"""
from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, current_app, request, url_for

IMMUTABLE = "public, max-age=31536000, immutable"
_versions: dict[str, tuple[float, str]] = {}  # path on disk -> (mtime, hash)
_urls: dict[tuple[str, str], str] = {}  # (static folder, filename) -> versioned URL, when not in debug


def version_of(folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256, or None when there is no such file."""
    path = os.path.join(folder, filename)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    known = _versions.get(path)
    if known is not None and known[0] == mtime:
        return known[1]
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:12]
    _versions[path] = (mtime, digest)
    return digest


def static_url(filename: str) -> str:
    """The versioned URL of a file under static/ (unversioned when the file does not exist)."""
    app = current_app
    key = (app.static_folder, filename)
    if not app.debug:
        found = _urls.get(key)
        if found is not None:
            return found
    version = version_of(app.static_folder, filename)
    url = url_for("static", filename=filename, v=version) if version else url_for("static", filename=filename)
    if not app.debug:
        _urls[key] = url
    return url


def _cache_for_a_year(response: Response) -> Response:
    if request.endpoint == "static" and response.status_code in (200, 304):
        asked = request.args.get("v")
        filename = (request.view_args or {}).get("filename")
        if asked and filename and asked == version_of(current_app.static_folder, filename):
            response.headers["Cache-Control"] = IMMUTABLE
    return response


def init_app(app: Flask) -> None:
    app.after_request(_cache_for_a_year)
    app.jinja_env.globals["static_url"] = static_url
