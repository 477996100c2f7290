"""Uploaded photos under MEDIA_ROOT, served at /media/<key> (when MEDIA_S3_BUCKET is set they are served by
the object storage instead). Keys are named by their content: browsers keep them for a year."""
from __future__ import annotations

from flask import Blueprint, send_from_directory

from app.core import media

bp = Blueprint("media", __name__)


@bp.get(media.MEDIA_PATH + "<path:key>")
def media_file(key: str):
    response = send_from_directory(media.local_root(), key, max_age=365 * 24 * 3600)
    response.headers["Cache-Control"] = media.IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
