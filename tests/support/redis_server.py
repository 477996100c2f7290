"""A private redis-server on a free loopback port, for tests that stop Redis under a running app (the
shared Redis on 6379 belongs to everybody). Nothing is saved to disk."""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

from tests.support.live import free_port


@dataclass
class RedisServer:
    url: str
    port: int
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def available() -> bool:
    return shutil.which("redis-server") is not None


@contextlib.contextmanager
def redis_server(port: int | None = None, timeout: float = 10.0):
    """Yields a RedisServer on `port` (default: a free one), stopped (if still running) at the end."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="o2o-redis-") as tmp:
        process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(f"redis://127.0.0.1:{port}/0", port, process)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                        s.sendall(b"PING\r\n")
                        if s.recv(16).startswith(b"+PONG"):
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield server
        finally:
            server.stop()
