"""A local S3-protocol server (moto's server mode) on a free loopback port, in its own process: the photo
uploads are tested against the real protocol (signed requests, buckets, public object URLs), not a mock."""
from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.live import free_port

MOTO_SERVER = str(Path(sys.executable).parent / "moto_server")


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen


@contextlib.contextmanager
def s3_server(timeout: float = 20.0):
    port = free_port()
    process = subprocess.Popen([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(endpoint + "/moto-api/", timeout=1).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
        yield S3Server(endpoint, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
