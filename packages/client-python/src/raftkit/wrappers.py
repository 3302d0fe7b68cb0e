"""Convenience wrappers for the demos: the KV store (group ``kv``), the SQL store (group
``sql``) and the metadata center (etcd v3's JSON gateway, ``/v3/...``). Each method returns the
value for a sync :class:`~raftkit.Client` and an awaitable for an :class:`~raftkit.AsyncClient`.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import socket
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Union

from ._plan import CallSpec, RETRY_STATUS, any_object, parse_json
from .errors import (
    BadRequestError,
    CompactedError,
    ConflictError,
    NotFoundError,
    RaftkitError,
    TimeoutError,
    UnauthorizedError,
    UnavailableError,
)

if TYPE_CHECKING:  # pragma: no cover
    from ._api import ApiBase

Bytesish = Union[str, bytes]


class KV:
    """The KV demo (docs/api.md section 3): ``kv.put("a", "1")``, ``kv.get("a").result["value"]``."""

    def __init__(self, client: "ApiBase", group: str = "kv") -> None:
        self._c = client
        self.group = group

    def put(self, key: str, value: str, *, timeout: Optional[float] = None) -> Any:
        return self._c.command(self.group, "put", {"key": key, "value": value}, timeout=timeout)

    def delete(self, key: str, *, timeout: Optional[float] = None) -> Any:
        return self._c.command(self.group, "delete", {"key": key}, timeout=timeout)

    def cas(self, key: str, expected: Optional[str], value: str, *, timeout: Optional[float] = None) -> Any:
        return self._c.command(self.group, "cas", {"key": key, "expected": expected, "value": value}, timeout=timeout)

    def get(self, key: str, *, consistency: str = "linearizable", timeout: Optional[float] = None) -> Any:
        return self._c.query(self.group, "get", {"key": key}, consistency=consistency, timeout=timeout)

    def range(self, prefix: str = "", limit: Optional[int] = None, *, consistency: str = "linearizable", timeout: Optional[float] = None) -> Any:
        args: Dict[str, Any] = {"prefix": prefix}
        if limit is not None:
            args["limit"] = limit
        return self._c.query(self.group, "range", args, consistency=consistency, timeout=timeout)


Statement = Union[str, Sequence[Any], Dict[str, Any]]


def _statements(statements: Union[Statement, Sequence[Statement]]) -> List[Any]:
    if isinstance(statements, str):
        return [statements]
    if isinstance(statements, dict):
        return [statements]
    out = list(statements)
    if not out:
        raise BadRequestError("at least one SQL statement is needed", field="statements")
    return out


class SQL:
    """The SQL store (raftkit-sql, group ``sql``) through raftkit's routes: ``sql.execute([...])``
    and ``sql.query(...)``. A statement is SQL text, ``[sql, *params]`` or ``{"sql", "params"}``."""

    def __init__(self, client: "ApiBase", group: str = "sql") -> None:
        self._c = client
        self.group = group

    def execute(self, statements: Union[Statement, Sequence[Statement]], *params: Any, transaction: bool = False, timeout: Optional[float] = None) -> Any:
        """``sql.execute("INSERT INTO t(name) VALUES(?)", "ann")`` or a list of statements (each
        SQL text, ``[sql, *params]`` or ``{"sql", "params"}``); one log entry either way."""
        stmts = [[statements, *params]] if params and isinstance(statements, str) else _statements(statements)
        return self._c.command(self.group, "execute", {"statements": stmts, "transaction": transaction}, timeout=timeout)

    def request(self, statements: Union[Statement, Sequence[Statement]], *, transaction: bool = False, read_only: bool = False, timeout: Optional[float] = None) -> Any:
        """Reads and writes mixed, through the log."""
        args = {"statements": _statements(statements), "transaction": transaction}
        if read_only:
            args["readOnly"] = True
        return self._c.command(self.group, "request", args, timeout=timeout)

    def query(
        self,
        statements: Union[Statement, Sequence[Statement]],
        *params: Any,
        consistency: str = "linearizable",
        db_timeout_ms: Optional[int] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """``sql.query("SELECT * FROM t WHERE id = ?", 3)`` or a list of statements."""
        stmts = [[statements, *params]] if params and isinstance(statements, str) else _statements(statements)
        args: Dict[str, Any] = {"statements": stmts}
        if db_timeout_ms is not None:
            args["dbTimeoutMs"] = db_timeout_ms
        return self._c.query(self.group, "query", args, consistency=consistency, timeout=timeout)

    def checksum(self, *, consistency: str = "local", timeout: Optional[float] = None) -> Any:
        return self._c.query(self.group, "checksum", {}, consistency=consistency, timeout=timeout)


# ---------------------------------------------------------------------- metadata center

_GRPC_ERRORS = {3: BadRequestError, 4: TimeoutError, 5: NotFoundError, 6: ConflictError, 9: ConflictError, 11: CompactedError, 14: UnavailableError, 16: UnauthorizedError}


def meta_error(status: int, body: Any) -> RaftkitError:
    """etcd's gateway answers ``{"error", "message", "code"}`` with a gRPC code; the message is
    etcd's own text (clients match on it), kept as the error's message."""
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        cls = _GRPC_ERRORS.get(body["code"], RaftkitError)
        msg = str(body.get("message") or body.get("error") or f"gRPC code {body['code']}")
        err = cls.__new__(cls)
        RaftkitError.__init__(err, msg, code=cls.default_code if cls is not RaftkitError else f"grpc_{body['code']}", status=status, details={"grpcCode": body["code"]})
        return err
    from .errors import error_from_body

    return error_from_body(status, body)


def _b64(v: Bytesish) -> str:
    return base64.b64encode(v.encode() if isinstance(v, str) else bytes(v)).decode()


def _unb64(v: Optional[str]) -> Union[str, bytes]:
    raw = base64.b64decode(v or "")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def prefix_end(key: Bytesish) -> bytes:
    """The range end that covers every key starting with ``key`` (etcd's rule)."""
    b = bytearray(key.encode() if isinstance(key, str) else key)
    while b:
        if b[-1] < 0xFF:
            b[-1] += 1
            return bytes(b)
        b.pop()
    return b"\0"


def decode_kv(kv: Dict[str, Any]) -> Dict[str, Any]:
    """A KeyValue of the gateway, with bytes decoded and int64 strings as ints."""
    out: Dict[str, Any] = {"key": _unb64(kv.get("key")), "value": _unb64(kv.get("value"))}
    for k in ("create_revision", "mod_revision", "version", "lease"):
        out[k] = int(kv.get(k, 0))
    return out


def _decode_range(body: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "kvs": [decode_kv(kv) for kv in body.get("kvs", [])],
        "count": int(body.get("count", 0)),
        "more": bool(body.get("more", False)),
        "revision": int(body.get("header", {}).get("revision", 0)),
    }


def _first_value(body: Dict[str, Any]) -> Any:
    kvs = body.get("kvs") or []
    return _unb64(kvs[0].get("value")) if kvs else None


def _decode_txn(body: Dict[str, Any]) -> Dict[str, Any]:
    responses = []
    for r in body.get("responses", []):
        if "response_range" in r:
            responses.append({"range": _decode_range(r["response_range"])})
        elif "response_put" in r:
            responses.append({"put": {"revision": int(r["response_put"].get("header", {}).get("revision", 0))}})
        elif "response_delete_range" in r:
            responses.append({"delete": {"deleted": int(r["response_delete_range"].get("deleted", 0))}})
        else:
            responses.append(r)
    return {"succeeded": bool(body.get("succeeded", False)), "responses": responses, "revision": int(body.get("header", {}).get("revision", 0))}


class Meta:
    """The metadata center (raftkit-meta) through etcd v3's JSON gateway on the nodes' HTTP port:
    ``meta.put("/config/a", "1")``, ``meta.get("/config/a")``, ``meta.range("/config/", prefix=True)``,
    ``meta.txn(...)``, ``meta.lease(ttl)``, ``meta.watch("/config/", prefix=True)``. Keys and values
    are str (UTF-8) or bytes; answers decode them to str when they are UTF-8, else bytes."""

    def __init__(self, client: "ApiBase") -> None:
        self._c = client

    def _call(self, name: str, path: str, body: Dict[str, Any], post: Any, timeout: Optional[float]) -> Any:
        spec = CallSpec("admin", "meta", f"meta {name}", "POST", path, self._c._deadline(timeout), body=json.dumps(body).encode(), read=any_object, shape="a JSON object", errors=meta_error)
        return self._c._run(spec, post)

    def put(self, key: Bytesish, value: Bytesish, *, lease: Optional[int] = None, timeout: Optional[float] = None) -> Any:
        """Answers the revision the put produced."""
        body: Dict[str, Any] = {"key": _b64(key), "value": _b64(value)}
        if lease:
            body["lease"] = str(lease)
        return self._call("put", "/v3/kv/put", body, lambda b: int(b.get("header", {}).get("revision", 0)), timeout)

    def get(self, key: Bytesish, *, timeout: Optional[float] = None) -> Any:
        """The key's value, or None when absent (a linearizable read)."""
        return self._call("get", "/v3/kv/range", {"key": _b64(key)}, _first_value, timeout)

    def range(
        self,
        key: Bytesish,
        range_end: Optional[Bytesish] = None,
        *,
        prefix: bool = False,
        limit: int = 0,
        revision: int = 0,
        keys_only: bool = False,
        count_only: bool = False,
        serializable: bool = False,
        timeout: Optional[float] = None,
    ) -> Any:
        body: Dict[str, Any] = {"key": _b64(key)}
        end = prefix_end(key) if prefix else range_end
        if end is not None:
            body["range_end"] = _b64(end)
        for name, v in (("limit", limit), ("revision", revision)):
            if v:
                body[name] = str(v)
        for name, flag in (("keys_only", keys_only), ("count_only", count_only), ("serializable", serializable)):
            if flag:
                body[name] = True
        return self._call("range", "/v3/kv/range", body, _decode_range, timeout)

    def delete(self, key: Bytesish, range_end: Optional[Bytesish] = None, *, prefix: bool = False, timeout: Optional[float] = None) -> Any:
        """Answers how many keys were deleted."""
        body: Dict[str, Any] = {"key": _b64(key)}
        end = prefix_end(key) if prefix else range_end
        if end is not None:
            body["range_end"] = _b64(end)
        return self._call("delete", "/v3/kv/deleterange", body, lambda b: int(b.get("deleted", 0)), timeout)

    # txn building blocks, etcd's names
    @staticmethod
    def compare(key: Bytesish, target: str, op: str, value: Any) -> Dict[str, Any]:
        """``Meta.compare("k", "value", "=", "1")``; target: value, version, create, mod, lease; op: = != > <."""
        ops = {"=": "EQUAL", "==": "EQUAL", "!=": "NOT_EQUAL", ">": "GREATER", "<": "LESS"}
        targets = {"value": ("VALUE", "value"), "version": ("VERSION", "version"), "create": ("CREATE", "create_revision"), "mod": ("MOD", "mod_revision"), "lease": ("LEASE", "lease")}
        if op not in ops:
            raise BadRequestError(f"compare op must be one of {', '.join(ops)}, got {op!r}", field="op")
        if target not in targets:
            raise BadRequestError(f"compare target must be one of {', '.join(targets)}, got {target!r}", field="target")
        name, field = targets[target]
        return {"key": _b64(key), "target": name, "result": ops[op], field: _b64(value) if target == "value" else str(value)}

    @staticmethod
    def op_put(key: Bytesish, value: Bytesish, lease: Optional[int] = None) -> Dict[str, Any]:
        req: Dict[str, Any] = {"key": _b64(key), "value": _b64(value)}
        if lease:
            req["lease"] = str(lease)
        return {"request_put": req}

    @staticmethod
    def op_get(key: Bytesish, range_end: Optional[Bytesish] = None) -> Dict[str, Any]:
        req: Dict[str, Any] = {"key": _b64(key)}
        if range_end is not None:
            req["range_end"] = _b64(range_end)
        return {"request_range": req}

    @staticmethod
    def op_delete(key: Bytesish, range_end: Optional[Bytesish] = None) -> Dict[str, Any]:
        req: Dict[str, Any] = {"key": _b64(key)}
        if range_end is not None:
            req["range_end"] = _b64(range_end)
        return {"request_delete_range": req}

    def txn(self, compare: Sequence[Dict[str, Any]] = (), success: Sequence[Dict[str, Any]] = (), failure: Sequence[Dict[str, Any]] = (), *, timeout: Optional[float] = None) -> Any:
        body = {"compare": list(compare), "success": list(success), "failure": list(failure)}
        return self._call("txn", "/v3/kv/txn", body, _decode_txn, timeout)

    def lease(self, ttl: int, *, timeout: Optional[float] = None) -> Any:
        """Grants a lease of ``ttl`` seconds; answers its id."""
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
            raise BadRequestError(f"ttl must be a positive integer of seconds, got {ttl!r}", field="ttl")
        return self._call("lease grant", "/v3/lease/grant", {"TTL": str(ttl)}, lambda b: int(b.get("ID", 0)), timeout)

    def lease_revoke(self, lease_id: int, *, timeout: Optional[float] = None) -> Any:
        return self._call("lease revoke", "/v3/lease/revoke", {"ID": str(lease_id)}, lambda b: None, timeout)

    def lease_ttl(self, lease_id: int, *, keys: bool = False, timeout: Optional[float] = None) -> Any:
        """``{"ttl", "granted_ttl", "keys"}``; ttl is -1 for an expired or unknown lease."""
        post = lambda b: {"ttl": int(b.get("TTL", -1)), "granted_ttl": int(b.get("grantedTTL", 0)), "keys": [_unb64(k) for k in b.get("keys", [])]}  # noqa: E731
        return self._call("lease ttl", "/v3/lease/timetolive", {"ID": str(lease_id), "keys": keys}, post, timeout)

    def lease_keep_alive(self, lease_id: int, *, timeout: Optional[float] = None) -> Any:
        """Renews a lease once; answers its new TTL (the gateway streams one answer per request line)."""

        def post(b: Dict[str, Any]) -> int:
            r = b.get("result", b)
            return int(r.get("TTL", 0))

        return self._call("lease keep-alive", "/v3/lease/keepalive", {"ID": str(lease_id)}, post, timeout)

    def watch(self, key: Bytesish, range_end: Optional[Bytesish] = None, *, prefix: bool = False, start_revision: Optional[int] = None) -> Any:
        """Events (``{"type": "PUT"|"DELETE", "kv": {...}}``) as an iterator for the sync client,
        an async iterator for the async one; resumed after a node failure from the last revision + 1."""
        from .aio import AsyncClient

        end = prefix_end(key) if prefix else range_end
        cls = AsyncMetaWatch if isinstance(self._c, AsyncClient) else MetaWatch
        return cls(self._c, key, end, start_revision)


class _MetaWatchState:
    def __init__(self, client: "ApiBase", key: Bytesish, end: Optional[Bytesish], start_revision: Optional[int]) -> None:
        self.client = client
        self.key = key
        self.end = end
        self.next_revision = start_revision
        self.pending: List[Dict[str, Any]] = []
        self.cancelled = False
        self.failures = 0

    def body(self) -> bytes:
        req: Dict[str, Any] = {"key": _b64(self.key)}
        if self.end is not None:
            req["range_end"] = _b64(self.end)
        if self.next_revision:
            req["start_revision"] = str(self.next_revision)
        return json.dumps({"create_request": req}).encode()

    def headers(self, length: int) -> Dict[str, str]:
        h = {"content-type": "application/json", "content-length": str(length)}
        if self.client.token:
            h["authorization"] = f"Bearer {self.client.token}"
        return h

    def take(self, line: bytes) -> None:
        msg = json.loads(line)
        if "error" in msg and "result" not in msg:
            raise meta_error(503, msg.get("error") if isinstance(msg.get("error"), dict) else msg)
        r = msg.get("result", {})
        if r.get("compact_revision") and r.get("canceled"):
            raise CompactedError(f"revision {self.next_revision} is compacted", first_index=int(r["compact_revision"]))
        for ev in r.get("events", []):
            kv = decode_kv(ev.get("kv", {}))
            self.next_revision = kv["mod_revision"] + 1
            self.pending.append({"type": ev.get("type", "PUT"), "kv": kv})
        self.failures = 0

    def failed(self) -> None:
        self.client._router.advance()
        self.failures += 1
        if self.failures > 3 * len(self.client._router.endpoints) + 3:
            raise UnavailableError("the metadata watch could not reach any node")


class MetaWatch:
    def __init__(self, client: "ApiBase", key: Bytesish, end: Optional[Bytesish], start_revision: Optional[int]) -> None:
        self._s = _MetaWatchState(client, key, end, start_revision)
        self._conn: Optional[http.client.HTTPConnection] = None
        self._resp: Optional[http.client.HTTPResponse] = None

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return self

    def __next__(self) -> Dict[str, Any]:
        import time

        from ._http_sync import open_connection, path_prefix

        s = self._s
        while True:
            if s.pending:
                return s.pending.pop(0)
            if s.cancelled:
                raise StopIteration
            if self._resp is None:
                url = s.client._router.any_target()
                try:
                    conn = open_connection(url, s.client.attempt_timeout)
                    body = s.body()
                    conn.request("POST", path_prefix(url) + "/v3/watch", body=body, headers=s.headers(len(body)))
                    resp = conn.getresponse()
                except OSError:
                    s.failed()
                    time.sleep(0.2)
                    continue
                if resp.status != 200:
                    data = resp.read()
                    conn.close()
                    if resp.status in RETRY_STATUS:
                        s.failed()
                        time.sleep(0.2)
                        continue
                    raise meta_error(resp.status, parse_json(data))
                if conn.sock is not None:
                    conn.sock.settimeout(None)
                self._conn, self._resp = conn, resp
            try:
                line = self._resp.readline()
            except (OSError, http.client.HTTPException, ValueError):
                line = b""
            if not line:
                self._drop()
                if not s.cancelled:
                    s.failed()
                continue
            if line.strip():
                s.take(line)

    def _drop(self) -> None:
        conn, self._conn, self._resp = self._conn, None, None
        if conn is not None:
            conn.close()

    def cancel(self) -> None:
        self._s.cancelled = True
        conn = self._conn
        if conn is not None and conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "MetaWatch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cancel()
        self._drop()


class AsyncMetaWatch:
    def __init__(self, client: "ApiBase", key: Bytesish, end: Optional[Bytesish], start_revision: Optional[int]) -> None:
        self._s = _MetaWatchState(client, key, end, start_revision)
        self._conn: Any = None
        self._lines: Any = None

    def __aiter__(self) -> "AsyncMetaWatch":
        return self

    async def __anext__(self) -> Dict[str, Any]:
        from ._http_async import _close, open_conn, read_body, read_head, request_bytes
        from .watch import _ChunkedLines

        s = self._s
        while True:
            if s.pending:
                return s.pending.pop(0)
            if s.cancelled:
                raise StopAsyncIteration
            if self._lines is None:
                url = s.client._router.any_target()
                conn = None
                try:
                    conn = await asyncio.wait_for(open_conn(url), s.client.attempt_timeout)
                    body = s.body()
                    conn[1].write(request_bytes(url, "POST", "/v3/watch", {k: v for k, v in s.headers(len(body)).items() if k != "content-length"}, body))
                    await conn[1].drain()
                    status, headers = await asyncio.wait_for(read_head(conn[0]), s.client.attempt_timeout)
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                    _close(conn)
                    s.failed()
                    await asyncio.sleep(0.2)
                    continue
                if status != 200:
                    data, _ = await read_body(conn[0], headers, "POST", status)
                    _close(conn)
                    if status in RETRY_STATUS:
                        s.failed()
                        await asyncio.sleep(0.2)
                        continue
                    raise meta_error(status, parse_json(data))
                self._conn = conn
                self._lines = _ChunkedLines(conn[0], headers.get("transfer-encoding", "").lower() == "chunked")
            try:
                line = await self._lines.readline()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                line = b""
            if not line:
                _close(self._conn)
                self._conn, self._lines = None, None
                if not s.cancelled:
                    s.failed()
                continue
            if line.strip():
                s.take(line)

    def cancel(self) -> None:
        self._s.cancelled = True
        if self._conn is not None:
            try:
                self._conn[1].transport.abort()
            except Exception:  # noqa: BLE001
                pass

    async def __aenter__(self) -> "AsyncMetaWatch":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.cancel()
