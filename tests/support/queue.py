"""The job queue a test wants, for a while: the tests run jobs inline (HUEY_IMMEDIATE); a fault test rebinds
the app's tasks to a real queue (a Huey SQLite file, or Redis through a cut proxy) and back afterwards."""
from __future__ import annotations

import contextlib

from app.core import tasks


@contextlib.contextmanager
def queue_on(app, **config):
    """Rebinds the app's tasks to the queue `config` describes (REDIS_URL, HUEY_SQLITE_PATH, HUEY_IMMEDIATE);
    back to the tests' inline queue afterwards."""
    saved = {k: app.config.get(k) for k in config}
    app.config.update(config)
    tasks.init_app(app)
    try:
        yield app.extensions["huey"]
    finally:
        app.config.update(saved)
        tasks.init_app(app)
