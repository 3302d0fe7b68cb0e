"""What the sync :class:`~raftkit.Client` and the async :class:`~raftkit.AsyncClient` share:
options, routing, sessions, and every call written once as a :class:`CallSpec`. Each client
only drives the specs (``_run``): blocking, or as a coroutine. So a method here returns the
value for the sync client and an awaitable for the async one, with the same names and rules."""

from __future__ import annotations

import json
import ssl
import uuid
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Union
from urllib.parse import quote

from ._plan import CallSpec, any_object, encode_args, operation_answer
from ._routing import LeaderRouter, normalize_endpoint
from ._sessions import SessionPool
from .errors import BadRequestError

CONSISTENCIES = ("linearizable", "lease", "local")
ROLES = ("voter", "learner", "witness")


class Response(NamedTuple):
    """A command's or query's answer: the state machine's result and the log index
    (a command's entry; for a query, the last command applied where it ran)."""

    result: Any
    index: int


def _path(*segments: str) -> str:
    return "/" + "/".join(quote(s, safe="") for s in segments)


def group_path(group: str, *rest: str) -> str:
    return _path("v1", "groups", group, *rest)


def _check_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequestError(f"{what} must be a non-empty string, got {value!r}", field=what.split()[-1])
    return value


def _check_node_id(value: Any, field: str = "id") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequestError(f"{field} must be a positive integer node id, got {value!r}", field=field)
    return value


def _as_response(value: Any) -> Response:
    return Response(value[0], value[1])


def _text(body: Any) -> Any:
    return body


def _tls_context(ca_file: Optional[str], ssl_context: Optional[ssl.SSLContext]) -> Optional[ssl.SSLContext]:
    """What https:// nodes are checked against: a given context, a CA file (a cluster's own CA,
    as the nodes' --tls-ca), or the system's CAs (None)."""
    if ca_file is not None and ssl_context is not None:
        raise BadRequestError("give ca_file or ssl_context, not both", field="ca_file")
    if ssl_context is not None:
        if not isinstance(ssl_context, ssl.SSLContext):
            raise BadRequestError("ssl_context must be an ssl.SSLContext", field="ssl_context")
        return ssl_context
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as e:
        raise BadRequestError(f"ca_file {ca_file!r} is not a readable PEM CA bundle: {e}", field="ca_file") from e


class ApiBase:
    """Options, routing and sessions; every call as a spec (see the module's doc)."""

    def __init__(
        self,
        urls: Union[str, Sequence[str]],
        *,
        token: Optional[str] = None,
        timeout: float = 10.0,
        attempt_timeout: float = 5.0,
        client_id: Optional[str] = None,
        ca_file: Optional[str] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        endpoints = [u.strip() for u in urls.split(",")] if isinstance(urls, str) else list(urls)
        self._router = LeaderRouter(endpoints)
        self.timeout = self._positive(timeout, "timeout")
        self.attempt_timeout = self._positive(attempt_timeout, "attempt_timeout")
        if token is not None and (not isinstance(token, str) or not token):
            raise BadRequestError("token must be a non-empty string or None", field="token")
        self.token = token
        if client_id is not None:
            _check_name(client_id, "the client_id")
        self.client_id = client_id or f"py-{uuid.uuid4().hex[:20]}"
        self._sessions = SessionPool(self.client_id)
        self.ssl_context = _tls_context(ca_file, ssl_context)

    @property
    def urls(self) -> List[str]:
        return list(self._router.endpoints)

    @staticmethod
    def _positive(value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise BadRequestError(f"{field} must be a positive number of seconds, got {value!r}", field=field)
        return float(value)

    def _deadline(self, timeout: Optional[float]) -> float:
        return self.timeout if timeout is None else self._positive(timeout, "timeout")

    # Drivers: the sync client blocks, the async one returns a coroutine.
    def _run(self, spec: CallSpec, post: Callable[[Any], Any] = _text) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _run_command(self, group: str, name: str, body: bytes, timeout: float) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _command_spec(self, group: str, name: str, body: bytes, timeout: float, lane: Any) -> CallSpec:
        return CallSpec(
            "command",
            group,
            name,
            "POST",
            group_path(group, "commands", name),
            timeout,
            body=body,
            leader_only=True,
            session=(lane.client_id, lane.next_sequence()),
        )

    # ------------------------------------------------------------------ operations

    def command(self, group: str, name: str, args: Any = None, *, timeout: Optional[float] = None) -> Any:
        """Runs a command on the group's leader; answers :class:`Response` once it is applied.
        Retries carry the same session (client id + sequence): applied once, first result."""
        _check_name(group, "the group")
        _check_name(name, "the command name")
        return self._run_command(group, name, encode_args(args), self._deadline(timeout))

    def query(self, group: str, name: str, args: Any = None, *, consistency: str = "linearizable", timeout: Optional[float] = None) -> Any:
        """Runs a query: ``linearizable`` (default), ``lease`` or ``local`` (any node, may be stale)."""
        _check_name(group, "the group")
        _check_name(name, "the query name")
        if consistency not in CONSISTENCIES:
            raise BadRequestError(f"consistency must be one of {', '.join(CONSISTENCIES)}, got {consistency!r}", field="consistency")
        spec = CallSpec(
            "query",
            group,
            name,
            "POST",
            f"{group_path(group, 'queries', name)}?consistency={consistency}",
            self._deadline(timeout),
            body=encode_args(args),
            leader_only=consistency != "local",
        )
        return self._run(spec, _as_response)

    def _schema_spec(self, group: str, timeout: Optional[float]) -> CallSpec:
        _check_name(group, "the group")
        return CallSpec("schema", group, "schema", "GET", group_path(group, "schema"), self._deadline(timeout), read=any_object, shape="a schema object")

    # ------------------------------------------------------------------ admin

    def _admin(self, name: str, method: str, path: str, timeout: Optional[float], body: Any = None, *, group: str = "", leader: bool = False, node: Optional[str] = None) -> Any:
        spec = CallSpec(
            "admin",
            group,
            name,
            method,
            path,
            self._deadline(timeout),
            body=None if body is None else json.dumps(body).encode(),
            leader_only=leader,
            read=any_object,
            shape="a JSON object",
            target=normalize_endpoint(node) if node is not None else None,
        )
        return self._run(spec)

    def status(self, node: Optional[str] = None, *, timeout: Optional[float] = None) -> Any:
        """``GET /v1/status`` of one node (``node=`` URL) or of whichever node answers."""
        return self._admin("status", "GET", "/v1/status", timeout, node=node)

    def groups(self, node: Optional[str] = None, *, timeout: Optional[float] = None) -> Any:
        return self._admin("groups", "GET", "/v1/groups", timeout, node=node)

    def create_group(self, group: str, type: str, members: Sequence[Dict[str, Any]], *, node: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        """``POST /v1/groups``; ``members`` is ``[{"id", "address", "role"?}]`` and must include the node asked."""
        _check_name(group, "the group")
        _check_name(type, "the type")
        if not members:
            raise BadRequestError("a group needs at least one member", field="members")
        return self._admin("create group", "POST", "/v1/groups", timeout, {"group": group, "type": type, "members": list(members)}, group=group, node=node)

    def add_member(self, group: str, id: int, address: str, role: str = "learner", *, timeout: Optional[float] = None) -> Any:
        _check_node_id(id)
        _check_name(address, "the address")
        if role not in ROLES:
            raise BadRequestError(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
        return self._admin("add member", "POST", group_path(group, "members"), timeout, {"id": id, "address": address, "role": role}, group=group, leader=True)

    def add_learner(self, group: str, id: int, address: str, *, timeout: Optional[float] = None) -> Any:
        return self.add_member(group, id, address, "learner", timeout=timeout)

    def remove_member(self, group: str, id: int, *, timeout: Optional[float] = None) -> Any:
        _check_node_id(id)
        return self._admin("remove member", "DELETE", group_path(group, "members", str(id)), timeout, group=group, leader=True)

    def promote(self, group: str, id: int, *, timeout: Optional[float] = None) -> Any:
        _check_node_id(id)
        return self._admin("promote", "POST", group_path(group, "members", str(id), "promote"), timeout, {}, group=group, leader=True)

    def demote(self, group: str, id: int, *, timeout: Optional[float] = None) -> Any:
        _check_node_id(id)
        return self._admin("demote", "POST", group_path(group, "members", str(id), "demote"), timeout, {}, group=group, leader=True)

    def change_membership(self, group: str, changes: Sequence[Dict[str, Any]], transition: str = "auto", *, timeout: Optional[float] = None) -> Any:
        if transition not in ("auto", "joint", "explicit"):
            raise BadRequestError(f"transition must be auto, joint or explicit, got {transition!r}", field="transition")
        return self._admin("membership", "POST", group_path(group, "membership"), timeout, {"changes": list(changes), "transition": transition}, group=group, leader=True)

    def transfer_leader(self, group: str, to: int, *, timeout: Optional[float] = None) -> Any:
        _check_node_id(to, "to")
        return self._admin("leader transfer", "POST", group_path(group, "leader", "transfer"), timeout, {"to": to}, group=group, leader=True)

    def snapshot(self, group: str, node: Optional[str] = None, *, timeout: Optional[float] = None) -> Any:
        """Snapshots and compacts the group on one node (``node=`` URL; default: whichever answers)."""
        return self._admin("snapshot", "POST", group_path(group, "snapshot"), timeout, {}, group=group, node=node)

    def health(self, node: Optional[str] = None, *, timeout: Optional[float] = None) -> Any:
        return self._admin("health", "GET", "/healthz", timeout, node=node)

    def metrics(self, node: Optional[str] = None, *, timeout: Optional[float] = None) -> Any:
        """``GET /metrics`` (Prometheus text) of one node."""
        target = normalize_endpoint(node) if node is not None else None
        spec = CallSpec("admin", "", "metrics", "GET", "/metrics", self._deadline(timeout), read=_raw_text, shape="text", target=target, raw_text=True)
        return self._run(spec)


def _raw_text(body: Any) -> Any:
    return body


__all__ = ["ApiBase", "Response", "operation_answer", "group_path"]
