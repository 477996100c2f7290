"""Uploaded media (product photos) and the one helper that turns a stored image value into its URL.

A stored image value is either a path under static/ ("img/products/latte.png": the demo's photos) or a media
key with the prefix "media:" ("media:products/3f…c1.jpg": an upload). Uploads are kept under MEDIA_ROOT and
served by the app at /media/<key>, or, when MEDIA_S3_BUCKET is set (several app machines), in S3-compatible
object storage and served from MEDIA_S3_PUBLIC_URL. Keys are named by a hash of their content, so a key's
bytes never change and browsers may keep them for a year.

Every page that shows a product photo gets its URL from `image_url` (the shop's catalog snapshot, the cart,
the review page, the console)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Flask, current_app

from app.core.assets import static_url

MEDIA_PREFIX = "media:"
MEDIA_PATH = "/media/"  # where the app serves MEDIA_ROOT
PLACEHOLDER = "img/no-photo.png"  # a product without a photo yet
IMMUTABLE = "public, max-age=31536000, immutable"

_clients: dict[tuple, object] = {}


def image_url(stored: str | None) -> str:
    """The URL of a stored image value: a media key, a path under static/, or nothing (the placeholder)."""
    if not stored:
        return static_url(PLACEHOLDER)
    if stored.startswith(MEDIA_PREFIX):
        return media_url(stored[len(MEDIA_PREFIX):])
    return static_url(stored)


def s3_enabled() -> bool:
    return bool(current_app.config.get("MEDIA_S3_BUCKET"))


def media_url(key: str) -> str:
    config = current_app.config
    if s3_enabled():
        return f"{s3_public_base(config)}/{key}"
    return MEDIA_PATH + key


def s3_public_base(config) -> str:
    base = config.get("MEDIA_S3_PUBLIC_URL") or ""
    if not base:
        endpoint = (config.get("MEDIA_S3_ENDPOINT_URL") or "").rstrip("/")
        bucket = config["MEDIA_S3_BUCKET"]
        region = config.get("MEDIA_S3_REGION") or "us-east-1"
        base = f"{endpoint}/{bucket}" if endpoint else f"https://{bucket}.s3.{region}.amazonaws.com"
    return base.rstrip("/")


def _s3_client(config):
    import boto3
    from botocore.config import Config

    key = (config.get("MEDIA_S3_ENDPOINT_URL"), config.get("MEDIA_S3_REGION"), config.get("MEDIA_S3_ACCESS_KEY_ID"),
           config.get("MEDIA_S3_SECRET_ACCESS_KEY"))
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = boto3.client(
            "s3", endpoint_url=key[0] or None, region_name=key[1] or "us-east-1",
            aws_access_key_id=key[2] or None, aws_secret_access_key=key[3] or None,
            config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2},
                          s3={"addressing_style": "path"}))
    return client


def local_root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def save(key: str, data: bytes, content_type: str) -> str:
    """Store `data` under `key` (a relative path, named by its content) and return the stored image value.
    Called before the transaction that refers to it commits: a rollback leaves an unused file, never a row
    pointing at nothing."""
    if key.startswith("/") or ".." in key.split("/"):
        raise ValueError(f"not a media key: {key!r}")
    config = current_app.config
    if s3_enabled():
        _s3_client(config).put_object(Bucket=config["MEDIA_S3_BUCKET"], Key=key, Body=data,
                                      ContentType=content_type, CacheControl=IMMUTABLE)
    else:
        path = local_root() / key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)  # whole or not at all, for a worker serving it at the same moment
        os.chmod(path, 0o644)
    return MEDIA_PREFIX + key


def init_app(app: Flask) -> None:
    app.jinja_env.globals["image_url"] = image_url
