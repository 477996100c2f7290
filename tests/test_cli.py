"""Every CLI command that needs the database stops with the one sentence `flask check` gives when the
database cannot be reached: the deploy step `flask db upgrade` included."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nowhere"
SENTENCE = ("o2o-store: cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/nowhere "
            "(OperationalError): check DATABASE_URL and that the server is running.")
# Commands that never touch the database.
NO_DATABASE = {"check", "routes", "shell", "run"}
MIGRATE_NO_DATABASE = {"init", "list-templates", "edit", "merge", "show", "history", "heads", "branches"}


def _flask(*args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "k", "DATABASE_URL": UNREACHABLE}
    return subprocess.run([FLASK, "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args", [("check",), ("db", "upgrade"), ("db", "current"), ("demo",), ("demo", "--json")])
def test_unreachable_database_is_the_same_one_sentence(args):
    out = _flask(*args)
    assert out.returncode == 1, out
    assert out.stderr.strip() == SENTENCE, out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_offline_sql_needs_no_database():
    out = _flask("db", "upgrade", "--sql")
    assert out.returncode == 0, out.stderr
    assert "CREATE TABLE" in out.stdout


def test_every_command_that_needs_the_database_checks_it_first(app):
    from flask_migrate.cli import db as migrate_group

    for name, command in app.cli.commands.items():
        if command is migrate_group:
            continue  # its subcommands, below
        assert name in NO_DATABASE or getattr(command.callback, "needs_database", False), name
    for name, command in migrate_group.commands.items():
        assert name in MIGRATE_NO_DATABASE or getattr(command.callback, "needs_database", False), name
