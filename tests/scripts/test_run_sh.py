"""`make run` (scripts/run.sh), issue #9 point 11: it serves where BIND says and prints that address (0.0.0.0
printed as 127.0.0.1), links follow BIND when APP_BASE_URL is unset, and Ctrl-C stops gunicorn and the job
worker and exits 0, so make prints no error."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.live import free_port

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "run.sh"


def _env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TEST_DATABASE_URL", "HUEY_IMMEDIATE", "APP_BASE_URL", "BIND", "REDIS_URL")}
    env.update({
        "BIN": str(Path(sys.executable).parent),  # the venv that runs the tests
        "DATABASE_URL": f"sqlite:///{tmp_path / 'o2o.sqlite3'}", "HUEY_SQLITE_PATH": str(tmp_path / "huey.sqlite3"),
        "SECRET_KEY": "run-sh-test", "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True  # an HTTP answer (healthz says 503 without tables): the server is there
    except OSError:
        return False
    return True


def _run_until_ctrl_c(env: dict, command: list[str] | None = None) -> tuple[str, int, str]:
    """Starts run.sh (or `command`) in its own process group, as a terminal does, waits for gunicorn to
    answer, then sends SIGINT to the whole group (what Ctrl-C does). Returns (the line printed, exit status,
    the rest of the output)."""
    proc = subprocess.Popen(command or ["bash", str(SCRIPT)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"serving (http://[^/ ]+)/", line)
        assert match, line
        deadline = time.monotonic() + 60
        while not _answers(match.group(1) + "/healthz"):
            assert proc.poll() is None, f"run.sh stopped by itself: {proc.returncode}"
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=40)
        status = proc.returncode
        # Nothing of the group is left running (gunicorn master and workers, the Huey consumer).
        deadline = time.monotonic() + 10
        while True:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, "a process of run.sh outlived Ctrl-C"
            time.sleep(0.2)
        return line, status, rest
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_serves_on_bind_prints_it_and_links_follow_it_and_ctrl_c_exits_0(tmp_path):
    port = free_port()
    line, status, _ = _run_until_ctrl_c(_env(tmp_path, BIND=f"0.0.0.0:{port}"))
    assert f"serving http://127.0.0.1:{port}/ " in line  # where a person on this machine clicks
    assert f"links http://127.0.0.1:{port};" in line  # APP_BASE_URL derived from BIND
    assert status == 0


def test_a_set_app_base_url_is_kept_and_make_reports_no_error_on_ctrl_c(tmp_path):
    port = free_port()
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t@bash {SCRIPT}\n")  # the recipe of `make run`, without its setup steps
    line, _, rest = _run_until_ctrl_c(_env(tmp_path, BIND=f"127.0.0.1:{port}", APP_BASE_URL="https://shop.example.com"),
                                      ["make", "-s", "-f", str(makefile), "run"])
    assert f"serving http://127.0.0.1:{port}/ " in line and "links https://shop.example.com;" in line
    assert "make: ***" not in rest, rest  # (the job worker may log errors: this database has no tables)
