"""A TCP proxy that a test can cut and restore: put it between the app and PostgreSQL (or Redis, or anything
spoken over TCP) and break real connections without touching the machine's shared servers.

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = proxy.url_for("postgresql://postgres@127.0.0.1:5432/test")   # same URL, the proxy's port
        ...
        proxy.cut()        # every open connection is reset; new ones are reset as soon as they arrive
        proxy.restore()    # new connections are forwarded again (the old ones stay gone, as after a restart)

`cut(mode="blackhole")` instead holds new connections open and forwards nothing, as a network partition does
(clients wait for their own timeouts); `restore()` closes those. The `tcp_proxy` fixture makes proxies that
are stopped at the end of the test (or module, session: `tcp_proxy_factory`).
"""
from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest

_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST instead of FIN


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1", port: int = 0):
        self.target = (target_host, int(target_port))
        self._listener = socket.create_server((host, port), reuse_port=False, backlog=256)
        self._listener.settimeout(0.1)
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket | None]] = set()
        self._mode: str | None = None  # None: forwarding; "reset" | "blackhole": cut
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.accepted = 0   # connections accepted, forwarded or not
        self.refused = 0    # connections reset or held while cut

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "TcpProxy":
        self._thread = threading.Thread(target=self._accept_loop, name=f"tcp-proxy:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._listener.close()
        self._drop_all()

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ faults
    @property
    def is_cut(self) -> bool:
        return self._mode is not None

    def cut(self, mode: str = "reset") -> None:
        """Close (reset) every open connection; until `restore`, reset new ones ("reset") or hold them open
        without forwarding a byte ("blackhole")."""
        if mode not in ("reset", "blackhole"):
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self._mode = mode
        self._drop_all()

    def restore(self) -> None:
        """Forward new connections again. Connections held by a blackhole are closed."""
        with self._lock:
            self._mode = None
        self._drop_all(held_only=True)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for _, upstream in self._pairs if upstream is not None)

    # ------------------------------------------------------------------ URLs
    def url_for(self, url: str) -> str:
        """`url` (postgresql://, redis://, http://...) with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo + '@' if userinfo else ''}{self.host}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    @classmethod
    def for_url(cls, url: str) -> "TcpProxy":
        """A proxy (not started) to the host and port of `url`."""
        parts = urlsplit(url)
        default = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "http": 80}
        scheme = parts.scheme.split("+")[0]
        return cls(parts.hostname or "127.0.0.1", parts.port or default.get(scheme, 0))

    # ------------------------------------------------------------------ internals
    def _drop_all(self, held_only: bool = False) -> None:
        with self._lock:
            pairs = [p for p in self._pairs if not held_only or p[1] is None]
            for p in pairs:
                self._pairs.discard(p)
        for client, upstream in pairs:
            _reset(client)
            if upstream is not None:
                _reset(upstream)

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.accepted += 1
            with self._lock:
                mode = self._mode
                if mode == "blackhole":
                    self.refused += 1
                    self._pairs.add((client, None))
                    continue
            if mode == "reset":
                self.refused += 1
                _reset(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True,
                             name=f"tcp-proxy:{self.port}:conn").start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            return
        pair = (client, upstream)
        with self._lock:
            if self._mode is not None:  # cut while we were connecting
                _reset(client)
                _reset(upstream)
                return
            self._pairs.add(pair)
        client.settimeout(None)
        upstream.settimeout(None)
        peers = {client: upstream, upstream: client}
        try:
            while True:
                with self._lock:
                    if pair not in self._pairs:
                        return
                readable, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return  # reset by cut(), or a peer went away
        finally:
            with self._lock:
                mine = pair in self._pairs
                self._pairs.discard(pair)
            if mine:  # a peer closed: pass the close on
                for sock in pair:
                    with contextlib.suppress(OSError):
                        sock.close()


@pytest.fixture
def tcp_proxy():
    """tcp_proxy(url) -> a started TcpProxy to url's host and port; stopped after the test."""
    made: list[TcpProxy] = []

    def make(url: str) -> TcpProxy:
        proxy = TcpProxy.for_url(url).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()
