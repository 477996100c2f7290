"""Bad configuration stops with one clear sentence, not a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.config import load_config
from app.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")


def test_secret_key_is_generated_and_kept(tmp_path):
    first = load_config(tmp_path, {})["SECRET_KEY"]
    assert len(first) > 40
    assert load_config(tmp_path, {})["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_needs_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path, {"APP_ENV": "production"})
    assert load_config(tmp_path, {"APP_ENV": "production", "SECRET_KEY": "k"})["DEMO_SIGNIN"] is False


def test_database_urls_are_normalised(tmp_path):
    cfg = load_config(tmp_path, {"DATABASE_URL": "postgres://u@h/db", "SECRET_KEY": "k"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    cfg = load_config(tmp_path, {"SECRET_KEY": "k"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'o2o.sqlite3'}"


def test_bad_numbers_are_named(tmp_path):
    with pytest.raises(ConfigError, match="QR_MAX_AGE_SECONDS"):
        load_config(tmp_path, {"SECRET_KEY": "k", "QR_MAX_AGE_SECONDS": "soon"})


def _flask(env: dict, *args) -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_production_start_without_secret_is_one_sentence(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    out = _flask(env, "check")
    assert out.returncode == 1
    assert out.stderr.strip().startswith("o2o-store: SECRET_KEY is not set")
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_sentence(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "k", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nowhere"}
    out = _flask(env, "check")
    assert out.returncode == 1
    assert "cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/nowhere" in out.stderr
    assert "Traceback" not in out.stderr


def test_links_follow_bind_when_no_base_url_is_set(tmp_path):
    """`BIND=0.0.0.0:8000 make run` makes QR codes and demo links that open on this machine."""
    from app.config import load_config

    assert load_config(tmp_path, {"BIND": "0.0.0.0:8000"})["APP_BASE_URL"] == "http://127.0.0.1:8000"
    assert load_config(tmp_path, {"BIND": "127.0.0.1:5077"})["APP_BASE_URL"] == "http://127.0.0.1:5077"
    assert load_config(tmp_path, {})["APP_BASE_URL"] == "http://127.0.0.1:5000"
    assert load_config(tmp_path, {"BIND": "0.0.0.0:8000", "APP_BASE_URL": "https://shop.example.com/"}
                       )["APP_BASE_URL"] == "https://shop.example.com"


def test_media_settings(tmp_path):
    cfg = load_config(tmp_path, {"SECRET_KEY": "k"})
    assert cfg["MEDIA_ROOT"] == str(tmp_path / "media") and cfg["MEDIA_S3_BUCKET"] == ""
    assert cfg["MEDIA_S3_REGION"] == "us-east-1"
    cfg = load_config(tmp_path, {"SECRET_KEY": "k", "MEDIA_ROOT": "/srv/o2o-media", "MEDIA_S3_BUCKET": "photos",
                                 "MEDIA_S3_REGION": "cn-north-1"})
    assert (cfg["MEDIA_ROOT"], cfg["MEDIA_S3_BUCKET"], cfg["MEDIA_S3_REGION"]) == ("/srv/o2o-media", "photos",
                                                                                   "cn-north-1")
