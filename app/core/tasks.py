"""Background work, one queue for every domain.

Each domain keeps its tasks in its own `tasks.py` and declares them here by name (`@task`, `@periodic`);
services ask for work with `enqueue(name, *args)` or `schedule(name, *args, eta=...)`, which run only once
the current transaction has committed (`defer`). Nobody imports the queue: `init_app` builds Huey from the
app's config (Redis when REDIS_URL is set, else SQLite in instance/, inline for tests) and binds every
declared task to it; `app/jobs.py` is the worker entry (`huey_consumer app.jobs.huey`).

The queue speeds things up; it is never the record. Whatever must happen later (a refund to send, an
unpaid order to cancel, a deadline) is written to the database first, in the transaction that decides it,
and a periodic sweep finds anything whose message was lost (a worker down, Redis down, a crash between
commit and enqueue). A failure to enqueue is logged, never raised to the user.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from flask import Flask, current_app, has_app_context

from app.core import logging as applog
from app.core.database import commit, defer, rollback


@dataclass(frozen=True)
class Spec:
    name: str
    fn: Callable
    retries: int = 0
    retry_delay: int = 0
    retry_backoff: float = 0  # each retry waits this many times longer than the one before (0: the same)
    crontab: dict = field(default_factory=dict)  # periodic when set: huey.crontab(**crontab)


REGISTRY: dict[str, Spec] = {}


def task(name: str, *, retries: int = 0, retry_delay: int = 0, retry_backoff: float = 0):
    """Declares `fn` as the task `name`. The function runs in an app context; it opens its own
    transactions with `transaction()` (a task may need several: count an attempt, then call out)."""
    def register(fn):
        REGISTRY[name] = Spec(name, fn, retries, retry_delay, retry_backoff)
        return fn
    return register


def periodic(name: str, **crontab):
    """Declares `fn` as a periodic task: `crontab` as for huey.crontab (minute="*/5", ...)."""
    def register(fn):
        REGISTRY[name] = Spec(name, fn, crontab=crontab)
        return fn
    return register


@contextlib.contextmanager
def transaction():
    """One unit of work inside a task: commits at the end (then runs deferred work), rolls back on error."""
    try:
        yield
        commit()
    except BaseException:
        rollback()
        raise


def enqueue(name: str, *args) -> None:
    """Runs task `name` with `args` after the current transaction commits (dropped if it rolls back)."""
    _known(name)
    defer(lambda: _send(name, args, None))


def schedule(name: str, *args, eta: datetime) -> None:
    """Runs task `name` at `eta` (UTC), after the current transaction commits. A deadline: the row that
    holds it is the record, and a periodic sweep catches the moment if this message is lost."""
    _known(name)
    defer(lambda: _send(name, args, eta))


def _known(name: str) -> None:
    if name not in REGISTRY:
        raise LookupError(f"no task named {name!r}")


def _send(name: str, args: tuple, eta: datetime | None) -> None:
    bound = current_app.extensions["tasks"]
    try:
        if eta is None:
            bound[name](*args)
        else:
            # Huey keeps naive UTC moments.
            bound[name].schedule(args=args, eta=eta.astimezone(timezone.utc).replace(tzinfo=None))
    except Exception:
        # The database already holds what must happen; the periodic sweeps will find it.
        applog.log.warning("could not queue task %s; a sweep will pick it up", name, exc_info=True)


def make_huey(config: dict, instance_path: str):
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    if config.get("HUEY_IMMEDIATE"):
        return MemoryHuey("o2o", immediate=True)  # tests: tasks run inline, after the commit that queued them
    if config.get("REDIS_URL"):
        # Short timeouts: a Redis that is down must cost a request a fraction of a second (the enqueue is
        # logged and dropped; the sweeps find the work), never a hung worker.
        from redis import ConnectionPool

        pool = ConnectionPool.from_url(config["REDIS_URL"], socket_connect_timeout=0.5, socket_timeout=5)
        return RedisHuey("o2o", connection_pool=pool)
    path = Path(config.get("HUEY_SQLITE_PATH") or Path(instance_path) / "huey.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("o2o", filename=str(path))


def init_app(app: Flask) -> None:
    """Builds the queue from the app's config and binds every declared task to it (the domains' tasks
    modules must be imported first: create_app does)."""
    from huey import crontab

    huey = make_huey(app.config, app.instance_path)

    def runner(spec: Spec):
        def run(*args):
            # Inline (tests) inside the request's context; in a worker, in this app's own context.
            ctx = contextlib.nullcontext() if has_app_context() else app.app_context()
            with ctx:
                try:
                    return spec.fn(*args)
                finally:
                    rollback()  # nothing half-done survives a task; its transaction() blocks committed
        run.__name__ = spec.name
        return run

    bound = {}
    for spec in REGISTRY.values():
        if spec.crontab:
            bound[spec.name] = huey.periodic_task(crontab(**spec.crontab), name=spec.name)(runner(spec))
        else:
            bound[spec.name] = huey.task(retries=spec.retries, retry_delay=spec.retry_delay,
                                         retry_backoff=spec.retry_backoff, name=spec.name)(runner(spec))
    huey.on_startup("o2o.catch_up")(_catch_up([bound[s.name] for s in REGISTRY.values() if s.crontab]))
    app.extensions["huey"] = huey
    app.extensions["tasks"] = bound


def _catch_up(sweeps: list):
    """A consumer that starts (after a deploy, a crash, an hour down) queues every periodic sweep once at
    once, rather than waiting for each one's next turn (the stuck-refund sweep runs every 5 minutes): what
    fell due while no worker ran is done now. Huey calls startup hooks in each worker thread; the first
    one queues them. The sweeps are idempotent, so several consumers starting together is harmless."""
    lock, done = threading.Lock(), []

    def catch_up() -> None:
        with lock:
            if done:
                return
            done.append(True)
        for sweep in sweeps:
            try:
                sweep()
            except Exception:
                applog.log.warning("could not queue %s at start-up", sweep.name, exc_info=True)
    return catch_up
