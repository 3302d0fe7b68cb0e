"""The watch (docs/api.md section 2.7) over NDJSON: the applied command entries of a group in
index order, resumed on another node from the last index + 1 after a failure, so no entry is
skipped or delivered twice. ``Watch`` is an iterator, ``AsyncWatch`` an async iterator; both
have ``cancel()`` and are context managers."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time
from typing import TYPE_CHECKING, Any, Dict, NamedTuple, Optional

from ._api import group_path
from ._http_async import _close, open_conn, read_body, read_head, request_bytes
from ._http_sync import open_connection, path_prefix
from ._plan import RETRY_STATUS, parse_json
from ._routing import Backoff
from .errors import (
    CompactedError,
    DeadlineExceededError,
    RaftkitError,
    UnknownGroupError,
    error_from_body,
)

if TYPE_CHECKING:  # pragma: no cover
    from ._api import ApiBase


class WatchEntry(NamedTuple):
    index: int
    term: int
    command: str
    args: Any
    result: Any

    @property
    def failed(self) -> bool:
        """True when the command failed in its handler (``result`` is ``{"error": {...}}``)."""
        return isinstance(self.result, dict) and set(self.result) == {"error"} and isinstance(self.result["error"], dict)


class _Progress:
    """What sync and async watches share: where to resume, which nodes have compacted it, and
    how long the watch may go without a connection."""

    def __init__(self, client: "ApiBase", group: str, from_index: Optional[int], timeout: Optional[float], idle_timeout: float) -> None:
        if from_index is not None and (not isinstance(from_index, int) or isinstance(from_index, bool) or from_index < 1):
            raise ValueError(f"from_index must be an integer >= 1, got {from_index!r}")
        self.client = client
        self.group = group
        self.next: Optional[int] = from_index
        self.timeout = client._deadline(timeout)
        self.idle_timeout = idle_timeout
        self.compacted: Dict[str, int] = {}
        self.lost_since: Optional[float] = None
        self.backoff = Backoff()
        self.cancelled = False
        self.url: Optional[str] = None

    def headers(self) -> Dict[str, str]:
        h = {"accept": "application/x-ndjson"}
        if self.client.token is not None:
            h["authorization"] = f"Bearer {self.client.token}"
        return h

    def path(self) -> str:
        return f"{group_path(self.group, 'watch')}?from={self.next}"

    def check_deadline(self) -> None:
        now = time.monotonic()
        if self.lost_since is None:
            self.lost_since = now
        elif now - self.lost_since > self.timeout:
            raise DeadlineExceededError(f"the watch of group {self.group!r} could not reach a node for {self.timeout:g} s (resume from {self.next})")

    def start_from_status(self, status: Any) -> None:
        for g in status.get("groups", []) if isinstance(status, dict) else []:
            if g.get("group") == self.group:
                self.next = int(g.get("applied", 0)) + 1
                return
        raise UnknownGroupError(f"no group {self.group!r} on {self.url}", status=404)

    def refused(self, url: str, status: int, body: Any) -> bool:
        """A refused watch: True to try another node, else raises the typed error."""
        err = error_from_body(status, body)
        router = self.client._router
        if status == 410:
            self.note_compacted(url, err)
            router.failed(url, False)
            return True
        if status in RETRY_STATUS:
            router.failed(url, False)
            return True
        raise err

    def note_compacted(self, url: str, err: RaftkitError) -> None:
        first = err.details.get("firstIndex")
        self.compacted[url] = first if isinstance(first, int) else 0
        if set(self.client._router.endpoints) <= set(self.compacted):
            raise CompactedError(
                f"index {self.next} of group {self.group!r} is compacted on every node; resume from {max(self.compacted.values())} or later",
                first_index=max(self.compacted.values()),
            )

    def entry(self, line: bytes) -> Optional[WatchEntry]:
        """The entry of one NDJSON line (None for a duplicate); an error line raises _Closed."""
        obj = json.loads(line)
        if "error" in obj:
            raise _Closed(error_from_body(410 if obj.get("error") == "compacted" else 503, obj))
        e = WatchEntry(obj["index"], obj["term"], obj["command"], obj.get("args"), obj.get("result"))
        if self.next is not None and e.index < self.next:
            return None
        self.next = e.index + 1
        self.lost_since = None
        self.compacted.clear()
        self.backoff = Backoff()
        return e


class _Closed(Exception):
    def __init__(self, error: RaftkitError) -> None:
        self.error = error


class Watch:
    """``for entry in client.watch("kv", from_index=1): ...``"""

    def __init__(self, client: "ApiBase", group: str, from_index: Optional[int] = None, *, timeout: Optional[float] = None, idle_timeout: float = 30.0) -> None:
        self._p = _Progress(client, group, from_index, timeout, idle_timeout)
        self._conn: Optional[http.client.HTTPConnection] = None
        self._resp: Optional[http.client.HTTPResponse] = None

    @property
    def next_index(self) -> Optional[int]:
        """The index the watch resumes from (the last delivered + 1)."""
        return self._p.next

    def __iter__(self) -> "Watch":
        return self

    def __next__(self) -> WatchEntry:
        p = self._p
        while True:
            if p.cancelled:
                self._drop()
                raise StopIteration
            if self._resp is None:
                self._open()
                continue
            try:
                line = self._resp.readline()
            except socket.timeout:
                self._drop()  # quiet for idle_timeout: make sure the node is still there
                continue
            except (OSError, http.client.HTTPException, ValueError, AttributeError):
                # AttributeError: cancel() closed the response under this read
                self._lost(True)
                continue
            if not line:
                self._lost(True)
                continue
            try:
                e = p.entry(line)
            except _Closed as c:
                if c.error.code == "compacted":
                    p.note_compacted(p.url or "", c.error)
                self._lost(False)
                continue
            if e is not None:
                return e

    def _open(self) -> None:
        p = self._p
        router = p.client._router
        while not p.cancelled:
            p.check_deadline()
            url = router.any_target()
            p.url = url
            conn = open_connection(url, p.client.attempt_timeout, p.client.ssl_context)
            try:
                if p.next is None:
                    conn.request("GET", path_prefix(url) + "/v1/status", headers=p.headers())
                    r = conn.getresponse()
                    body = parse_json(r.read())
                    if r.status != 200:
                        conn.close()
                        if p.refused(url, r.status, body):
                            time.sleep(p.backoff.next())
                        continue
                    p.start_from_status(body)
                conn.request("GET", path_prefix(url) + p.path(), headers=p.headers())
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException):
                conn.close()
                router.failed(url, True)
                time.sleep(p.backoff.next())
                continue
            if resp.status == 200:
                if conn.sock is not None:
                    conn.sock.settimeout(p.idle_timeout)
                self._conn, self._resp = conn, resp
                return
            body = parse_json(resp.read())
            conn.close()
            if p.refused(url, resp.status, body) and resp.status != 410:
                time.sleep(p.backoff.next())

    def _lost(self, down: bool) -> None:
        if self._p.url is not None and not self._p.cancelled:
            self._p.client._router.failed(self._p.url, down)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._resp = self._conn, None, None
        if conn is not None:
            conn.close()

    def cancel(self) -> None:
        """Ends the watch (from any thread); the iteration stops without an error."""
        self._p.cancelled = True
        conn = self._conn
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._drop()

    close = cancel

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cancel()
        self._drop()


class _ChunkedLines:
    """Lines of an HTTP body, chunked or not, from an asyncio stream."""

    def __init__(self, reader: asyncio.StreamReader, chunked: bool) -> None:
        self.reader = reader
        self.chunked = chunked
        self.buf = b""
        self.eof = False

    async def readline(self) -> bytes:
        if not self.chunked:
            return await self.reader.readline()
        while b"\n" not in self.buf:
            if self.eof:
                out, self.buf = self.buf, b""
                return out
            size_line = await self.reader.readline()
            if not size_line:
                self.eof = True
                continue
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.eof = True
                continue
            self.buf += await self.reader.readexactly(size)
            await self.reader.readexactly(2)
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"


class AsyncWatch:
    """``async for entry in client.watch("kv", from_index=1): ...``"""

    def __init__(self, client: "ApiBase", group: str, from_index: Optional[int] = None, *, timeout: Optional[float] = None, idle_timeout: float = 30.0) -> None:
        self._p = _Progress(client, group, from_index, timeout, idle_timeout)
        self._conn: Any = None
        self._lines: Optional[_ChunkedLines] = None

    @property
    def next_index(self) -> Optional[int]:
        return self._p.next

    def __aiter__(self) -> "AsyncWatch":
        return self

    async def __anext__(self) -> WatchEntry:
        p = self._p
        while True:
            if p.cancelled:
                self._drop()
                raise StopAsyncIteration
            if self._lines is None:
                await self._open()
                continue
            try:
                line = await asyncio.wait_for(self._lines.readline(), p.idle_timeout)
            except asyncio.TimeoutError:
                self._drop()
                continue
            except (OSError, asyncio.IncompleteReadError, ValueError):
                self._lost(True)
                continue
            if not line:
                self._lost(True)
                continue
            try:
                e = p.entry(line)
            except _Closed as c:
                if c.error.code == "compacted":
                    p.note_compacted(p.url or "", c.error)
                self._lost(False)
                continue
            if e is not None:
                return e

    async def _request(self, conn: Any, url: str, path: str) -> "tuple[int, Dict[str, str]]":
        reader, writer = conn
        writer.write(request_bytes(url, "GET", path, self._p.headers(), None))
        await writer.drain()
        return await read_head(reader)

    async def _open(self) -> None:
        p = self._p
        router = p.client._router
        while not p.cancelled:
            p.check_deadline()
            url = router.any_target()
            p.url = url
            conn = None
            try:
                conn = await asyncio.wait_for(open_conn(url, p.client.ssl_context), p.client.attempt_timeout)
                if p.next is None:
                    status, headers = await asyncio.wait_for(self._request(conn, url, "/v1/status"), p.client.attempt_timeout)
                    data, _ = await read_body(conn[0], headers, "GET", status)
                    if status != 200:
                        _close(conn)
                        if p.refused(url, status, parse_json(data)):
                            await asyncio.sleep(p.backoff.next())
                        continue
                    p.start_from_status(parse_json(data))
                status, headers = await asyncio.wait_for(self._request(conn, url, p.path()), p.client.attempt_timeout)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                _close(conn)
                router.failed(url, True)
                await asyncio.sleep(p.backoff.next())
                continue
            if status == 200:
                self._conn = conn
                self._lines = _ChunkedLines(conn[0], headers.get("transfer-encoding", "").lower() == "chunked")
                return
            data, _ = await read_body(conn[0], headers, "GET", status)
            _close(conn)
            if p.refused(url, status, parse_json(data)) and status != 410:
                await asyncio.sleep(p.backoff.next())

    def _lost(self, down: bool) -> None:
        if self._p.url is not None and not self._p.cancelled:
            self._p.client._router.failed(self._p.url, down)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._lines = self._conn, None, None
        _close(conn)

    def cancel(self) -> None:
        """Ends the watch; a pending ``__anext__`` ends without an error."""
        self._p.cancelled = True
        conn = self._conn
        if conn is not None:
            try:
                conn[1].transport.abort()
            except Exception:  # noqa: BLE001
                pass

    close = cancel

    async def __aenter__(self) -> "AsyncWatch":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.cancel()
        self._drop()


