"""HTTP/1.1 on asyncio streams (the standard library has no asyncio HTTP client): keep-alive
connections per node, Content-Length and chunked bodies, and a line stream for NDJSON."""

from __future__ import annotations

import asyncio
import ssl
from typing import AsyncIterator, Dict, List, Optional, Tuple, Union
from urllib.parse import urlsplit

from ._plan import Attempt, NetworkFailure, RawAnswer

Conn = Tuple[asyncio.StreamReader, asyncio.StreamWriter]
MAX_HEADER_LINE = 65536


class ProtocolError(Exception):
    pass


async def open_conn(base: str, context: Optional[ssl.SSLContext] = None) -> Conn:
    parts = urlsplit(base)
    host = parts.hostname or "127.0.0.1"
    if parts.scheme == "https":
        return await asyncio.open_connection(host, parts.port or 443, ssl=context or ssl.create_default_context(), limit=MAX_HEADER_LINE)
    return await asyncio.open_connection(host, parts.port or 80, limit=MAX_HEADER_LINE)


def request_bytes(base: str, method: str, path: str, headers: Dict[str, str], body: Optional[bytes]) -> bytes:
    parts = urlsplit(base)
    lines = [f"{method} {parts.path}{path} HTTP/1.1", f"Host: {parts.netloc}"]
    for k, v in headers.items():
        lines.append(f"{k}: {v}")
    if body is not None or method in ("POST", "PUT", "DELETE"):
        lines.append(f"Content-Length: {len(body or b'')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


async def read_head(reader: asyncio.StreamReader) -> Tuple[int, Dict[str, str]]:
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("the server closed the connection before answering")
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ProtocolError(f"not an HTTP answer: {line[:80]!r}")
    status = int(parts[1])
    headers: Dict[str, str] = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n"):
            break
        if not h:
            raise ConnectionResetError("the connection closed in the answer's headers")
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def read_chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        size_line = await reader.readline()
        if not size_line:
            raise ConnectionResetError("the connection closed inside a chunked body")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        yield data


async def read_body(reader: asyncio.StreamReader, headers: Dict[str, str], method: str, status: int) -> Tuple[bytes, bool]:
    """The body and whether the connection can be reused."""
    keep = headers.get("connection", "").lower() != "close"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b"", keep
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = [c async for c in read_chunks(reader)]
        return b"".join(parts), keep
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"])), keep
    return await reader.read(), False


class AsyncTransport:
    def __init__(self, context: Optional[ssl.SSLContext] = None) -> None:
        self._context = context
        self._idle: Dict[str, List[Conn]] = {}
        self.closed = False

    async def send(self, a: Attempt) -> Union[RawAnswer, NetworkFailure]:
        for _ in range(2):
            pool = self._idle.get(a.url)
            conn = pool.pop() if pool else None
            reused = conn is not None
            try:
                if conn is None:
                    conn = await asyncio.wait_for(open_conn(a.url, self._context), a.timeout)
                status, headers, data, keep = await asyncio.wait_for(self._exchange(conn, a), a.timeout)
            except asyncio.TimeoutError:
                _close(conn)
                return NetworkFailure(f"no answer within {a.timeout:.3g} s", timed_out=True)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as e:
                _close(conn)
                if reused:
                    continue  # a kept-alive connection the server had closed: the request never arrived
                return NetworkFailure(f"{type(e).__name__}: {e}")
            except (OSError, ProtocolError, ValueError) as e:
                _close(conn)
                return NetworkFailure(f"{type(e).__name__}: {e}")
            if keep and not self.closed:
                self._idle.setdefault(a.url, []).append(conn)
            else:
                _close(conn)
            return RawAnswer(status, headers, data)
        return NetworkFailure("the connection closed twice")  # pragma: no cover

    async def _exchange(self, conn: Conn, a: Attempt) -> Tuple[int, Dict[str, str], bytes, bool]:
        reader, writer = conn
        writer.write(request_bytes(a.url, a.method, a.path, a.headers, a.body))
        await writer.drain()
        status, headers = await read_head(reader)
        data, keep = await read_body(reader, headers, a.method, status)
        return status, headers, data, keep

    def close(self) -> None:
        self.closed = True
        for pool in self._idle.values():
            for c in pool:
                _close(c)
        self._idle.clear()


def _close(conn: Optional[Conn]) -> None:
    if conn is None:
        return
    try:
        conn[1].close()
    except Exception:  # noqa: BLE001 - closing a broken socket may fail; nothing to do
        pass
