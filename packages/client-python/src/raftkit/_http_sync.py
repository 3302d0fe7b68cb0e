"""Blocking HTTP/1.1 with keep-alive connections (http.client), for the sync client."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from typing import Dict, List, Optional, Union
from urllib.parse import urlsplit

from ._plan import Attempt, NetworkFailure, RawAnswer


def open_connection(base: str, timeout: float, context: Optional[ssl.SSLContext] = None) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    host = parts.hostname or "127.0.0.1"
    if parts.scheme == "https":
        return http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=context or ssl.create_default_context())
    return http.client.HTTPConnection(host, parts.port, timeout=timeout)


def path_prefix(base: str) -> str:
    return urlsplit(base).path


class SyncTransport:
    """Idle connections per node, reused across calls; safe to share between threads."""

    def __init__(self, context: Optional[ssl.SSLContext] = None) -> None:
        self._context = context
        self._idle: Dict[str, List[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self.closed = False

    def _take(self, base: str, timeout: float) -> "tuple[http.client.HTTPConnection, bool]":
        with self._lock:
            pool = self._idle.get(base)
            conn = pool.pop() if pool else None
        if conn is None:
            return open_connection(base, timeout, self._context), False
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn, True

    def _give_back(self, base: str, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if self.closed:
                conn.close()
                return
            self._idle.setdefault(base, []).append(conn)

    def send(self, a: Attempt) -> Union[RawAnswer, NetworkFailure]:
        for _ in range(2):
            conn, reused = self._take(a.url, a.timeout)
            try:
                conn.request(a.method, path_prefix(a.url) + a.path, body=a.body, headers=a.headers)
                resp = conn.getresponse()
                data = resp.read()
            except socket.timeout:
                conn.close()
                return NetworkFailure(f"no answer within {a.timeout:.3g} s", timed_out=True)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                conn.close()
                # A kept-alive connection the server had already closed: the request never
                # reached it, so it is sent once more on a fresh connection.
                if reused:
                    continue
                return NetworkFailure(f"{type(e).__name__}: {e}")
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                return NetworkFailure(f"{type(e).__name__}: {e}")
            headers = {k.lower(): v for k, v in resp.getheaders()}
            if resp.will_close:
                conn.close()
            else:
                self._give_back(a.url, conn)
            return RawAnswer(resp.status, headers, data)
        return NetworkFailure("the connection closed twice")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            self.closed = True
            conns = [c for pool in self._idle.values() for c in pool]
            self._idle.clear()
        for c in conns:
            c.close()
