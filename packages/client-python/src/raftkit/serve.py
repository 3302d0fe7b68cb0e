"""Serving a Python state machine to a raftkit node over WebSocket
(``GET /v1/groups/{group}/machine``; the protocol is in the package README).

The node drives the machine strictly in log order: ``apply`` (index, term, leader time,
command, args), ``query``, ``snapshot`` and ``restore``, JSON both ways. The machine says in its
hello which index it applied last (and that entry's result), so after a reconnect the node
resumes right after it, or restores a snapshot and replays the entries since: no entry is
applied twice or skipped. Needs the ``websockets`` package (pip ``websockets``, Debian
``python3-websockets``); the client does not.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
from typing import Any, Dict, Optional
from urllib.parse import quote

from ._routing import normalize_endpoint
from .errors import RaftkitError, error_for
from .machine import Context, Handler, MachineSpec, apply_state, capture, spec_of

PROTOCOL = 1
log = logging.getLogger("raftkit.serve")


class MachineRefusedError(RaftkitError):
    """The node refused the machine's handshake (another name or version, other commands, a
    machine already connected for the group); retrying would not help."""

    default_code = "bad_request"


def _ws_url(node_url: str, group: str) -> str:
    base = normalize_endpoint(node_url)
    return base.replace("http", "ws", 1) + f"/v1/groups/{quote(group, safe='')}/machine"


async def _connect(url: str, token: Optional[str]) -> Any:
    try:
        import websockets
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("serve_state_machine needs the websockets package: pip install websockets (Debian: apt install python3-websockets)") from e
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kw: Dict[str, Any] = {"max_size": 64 << 20, "ping_interval": 10, "ping_timeout": 20}
    try:
        return await websockets.connect(url, additional_headers=headers, **kw)
    except TypeError:
        # websockets < 14 (Debian's 10.x) names the option extra_headers
        return await websockets.connect(url, extra_headers=headers, **kw)


def _error_body(e: BaseException) -> Dict[str, Any]:
    if isinstance(e, RaftkitError):
        body: Dict[str, Any] = {"code": e.code, "message": e.message}
        if e.details:
            body["details"] = e.details
        return body
    return {"code": "command_failed", "message": f"{type(e).__name__}: {e}"}


class _Runner:
    """The machine's side of one group: its state, the last applied index and its result."""

    def __init__(self, obj: Any, spec: MachineSpec) -> None:
        self.obj = obj
        self.spec = spec
        self.last_index = 0
        self.last_result: Any = None
        self.initial = capture(obj, spec)  # what "restore to index 0" goes back to

    async def _call(self, h: Handler, args: Any, ctx: Optional[Context]) -> Any:
        kwargs = dict(args or {}) if isinstance(args, dict) else {}
        if args not in (None, {}) and not isinstance(args, dict):
            raise error_for("bad_request", f"{h.kind} {h.name!r} takes an object of named arguments")
        if h.wants_ctx:
            kwargs["ctx"] = ctx
        r = getattr(self.obj, h.attr)(**kwargs)
        if inspect.isawaitable(r):
            r = await r
        return json.loads(json.dumps(r, allow_nan=False)) if r is not None else None

    async def handle(self, msg: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        kind = msg.get("type")
        mid = msg.get("id")
        if kind == "apply":
            index = int(msg["index"])
            if index <= self.last_index:
                # the node only sends entries after the machine's last one (indexes may skip
                # numbers: not every log entry is a command); applying this one would repeat it
                return {"type": "result", "id": mid, "index": self.last_index, "gap": True, "error": {"code": "internal", "message": f"entry {index} is not after the last applied {self.last_index}"}}
            h = self.spec.commands.get(msg.get("command", ""))
            out: Dict[str, Any] = {"type": "result", "id": mid, "index": index}
            try:
                if h is None:
                    raise error_for("unknown_command", f"state machine {self.spec.name!r} has no command {msg.get('command')!r}")
                out["result"] = await self._call(h, msg.get("args"), Context(index, int(msg.get("term", 0)), int(msg.get("leaderTime", 0))))
            except Exception as e:  # noqa: BLE001 - a failed handler is a result, as on every replica
                out["error"] = _error_body(e)
            self.last_index = index
            self.last_result = {k: out[k] for k in ("result", "error") if k in out}
            return out
        if kind == "query":
            h = self.spec.queries.get(msg.get("name", ""))
            out = {"type": "result", "id": mid}
            try:
                if h is None:
                    raise error_for("unknown_query", f"state machine {self.spec.name!r} has no query {msg.get('name')!r}")
                out["result"] = await self._call(h, msg.get("args"), None)
            except Exception as e:  # noqa: BLE001
                out["error"] = _error_body(e)
            return out
        if kind == "snapshot":
            try:
                return {"type": "result", "id": mid, "index": self.last_index, "result": capture(self.obj, self.spec)}
            except Exception as e:  # noqa: BLE001
                return {"type": "result", "id": mid, "error": _error_body(e)}
        if kind == "restore":
            index = int(msg["index"])
            apply_state(self.obj, self.spec, self.initial if index == 0 or msg.get("state") is None else msg["state"])
            self.last_index = index
            self.last_result = None
            return {"type": "result", "id": mid, "index": index}
        if kind == "welcome":
            log.info("serving %s v%s to node %s for group %s from index %s", self.spec.name, self.spec.version, msg.get("node"), msg.get("group"), self.last_index)
            return None
        if kind == "refused":
            raise MachineRefusedError(str(msg.get("message", "refused")), code=str(msg.get("error", "bad_request")))
        return None

    def hello(self) -> Dict[str, Any]:
        return {"type": "hello", "protocol": PROTOCOL, **self.spec.declaration(), "lastIndex": self.last_index, "lastResult": self.last_result}


async def serve_state_machine_async(
    obj: Any,
    node_url: str,
    group: Optional[str] = None,
    *,
    token: Optional[str] = None,
    reconnect: bool = True,
    stop: Optional[asyncio.Event] = None,
    wait_for_group: float = 30.0,
) -> None:
    """Serves ``obj`` (an instance of a ``@state_machine`` class) to the node at ``node_url`` for
    ``group`` (default: the machine's name) until ``stop`` is set. Handlers may be ``async def``.
    Reconnects with backoff when the connection drops, keeping the state; waits up to
    ``wait_for_group`` seconds for a group the node does not have yet, and retries while
    another machine is connected for the group; raises :class:`MachineRefusedError` when the
    node refuses the machine itself (another name, version or operations)."""
    spec = spec_of(obj)
    runner = _Runner(obj, spec)
    url = _ws_url(node_url, group or spec.name)
    delay = 0.05
    missing_since: Optional[float] = None
    while stop is None or not stop.is_set():
        try:
            ws = await _connect(url, token)
        except Exception as e:  # noqa: BLE001 - refused upgrade (401/404) or the node is down
            status = getattr(getattr(e, "response", None), "status_code", None) or getattr(e, "status_code", None)
            now = asyncio.get_running_loop().time()
            if status == 404 and reconnect:
                # the group may not have reached this node yet (created a moment ago)
                missing_since = missing_since if missing_since is not None else now
            if status in (400, 401) or (status == 404 and (not reconnect or now - missing_since > wait_for_group)):  # type: ignore[operator]
                raise MachineRefusedError(f"node {node_url} refused the machine connection for group {group or spec.name!r}: HTTP {status}", status=status) from e
            if not reconnect:
                raise
            log.info("cannot reach %s (%s); retrying", url, e)
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, 2.0)
            continue
        delay = 0.05
        missing_since = None
        try:
            await ws.send(json.dumps(runner.hello()))
            stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
            try:
                while True:
                    recv = asyncio.ensure_future(ws.recv())
                    waits = {recv, stopper} if stopper else {recv}
                    done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    if recv not in done:
                        recv.cancel()
                        await ws.close()
                        return
                    reply = await runner.handle(json.loads(recv.result()))
                    if reply is not None:
                        await ws.send(json.dumps(reply, separators=(",", ":")))
            finally:
                if stopper is not None:
                    stopper.cancel()
        except MachineRefusedError as e:
            await ws.close()
            if e.code != "conflict" or not reconnect:
                raise
            # another connection of this group still counts as live on the node (a process that
            # just died, a link not yet found dead): try again once the node has dropped it
            log.warning("%s; retrying", e.message)
            await asyncio.sleep(1.0)
        except Exception as e:  # noqa: BLE001 - the connection dropped: resume on a new one
            reason = getattr(e, "reason", None) or getattr(getattr(e, "rcvd", None), "reason", None)
            code = getattr(e, "code", None) or getattr(getattr(e, "rcvd", None), "code", None)
            if isinstance(code, int) and 4400 <= code < 4500 and code != 4408:
                raise MachineRefusedError(f"node {node_url} closed the machine connection: {code} {reason}") from e
            if not reconnect:
                raise
            log.info("connection to %s lost (%s); reconnecting from index %s", url, e, runner.last_index)
            await asyncio.sleep(0.05)


def serve_state_machine(obj: Any, node_url: str, group: Optional[str] = None, *, token: Optional[str] = None, reconnect: bool = True) -> None:
    """Blocking :func:`serve_state_machine_async` (runs its own event loop until interrupted)."""
    asyncio.run(serve_state_machine_async(obj, node_url, group, token=token, reconnect=reconnect))
