"""One gunicorn (4 sync workers) on a fresh database with the demo loaded, shared by the live tests."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn, prepare


@dataclass
class Live:
    base: str
    demo: dict
    engine: sa.Engine
    env: dict


@pytest.fixture(scope="session")
def live():
    with fresh_database("live") as url, tempfile.TemporaryDirectory(prefix="o2o-live-media-") as media:
        env = app_env(url, MEDIA_ROOT=media)  # uploaded photos: one folder shared by the workers
        demo = prepare(env)
        with gunicorn(env, workers=4) as base:
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            yield Live(base, demo, engine, env)
            engine.dispose()


@pytest.fixture
def server(live):
    return live.base, live.demo, live.engine
