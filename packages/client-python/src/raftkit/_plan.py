"""The retry loop of one call (command, query, schema read, admin call), written once as a
generator and driven by the sync client (blocking sockets) and the async client (asyncio).

It yields :class:`Attempt` (send this request, send back a :class:`RawAnswer` or
:class:`NetworkFailure`) and :class:`Sleep`, and returns the call's value. Rules (the
TypeScript SDK's, packages/client/src/request-runner.ts):

* 2xx: the answer's value.
* 421 ``not_leader``: go straight to the named leader and remember it for the group.
* connection refused/reset, attempt timeout: the next endpoint (the failed one is skipped for a
  while), same session.
* 408, 429, 502, 503, 504: back off, forget the cached leader, retry with the same session.
* other 4xx, 500: raise the typed error at once.
* the call's deadline: :class:`DeadlineExceededError` naming the last error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generator, Optional, Tuple, Union

from ._routing import Backoff, LeaderRouter, normalize_endpoint
from .errors import (
    BadResponseError,
    DeadlineExceededError,
    NetworkError,
    RaftkitError,
    error_from_body,
)

RETRY_STATUS = {408, 429, 502, 503, 504}
FREE_REDIRECTS = 2
_MISSING = object()


@dataclass
class Attempt:
    url: str
    method: str
    path: str
    headers: Dict[str, str]
    body: Optional[bytes]
    timeout: float


@dataclass
class Sleep:
    seconds: float


@dataclass
class RawAnswer:
    status: int
    headers: Dict[str, str]
    data: bytes


@dataclass
class NetworkFailure:
    message: str
    timed_out: bool = False


Step = Union[Attempt, Sleep]
Outcome = Union[RawAnswer, NetworkFailure, None]


def operation_answer(body: Any) -> Any:
    """``{"result": R, "index": N}`` -> (R, N); anything else is not an operation's answer."""
    if isinstance(body, dict) and isinstance(body.get("index"), int):
        return (body.get("result"), body["index"])
    return _MISSING


def any_object(body: Any) -> Any:
    return body if isinstance(body, dict) else _MISSING


@dataclass
class CallSpec:
    kind: str
    group: str
    name: str
    method: str
    path: str
    timeout: float
    body: Optional[bytes] = None
    leader_only: bool = False
    session: Optional[Tuple[str, int]] = None
    read: Callable[[Any], Any] = operation_answer
    shape: str = '{"result","index"}'
    extra_headers: Dict[str, str] = field(default_factory=dict)
    # one node only (status, metrics, a snapshot of that node): no failover
    target: Optional[str] = None
    # the 2xx body is text (metrics), not JSON
    raw_text: bool = False
    # how an error answer becomes a typed error (the etcd gateway's bodies differ from raftkit's)
    errors: Callable[[int, Any], RaftkitError] = error_from_body


def encode_args(args: Any) -> bytes:
    try:
        return json.dumps({} if args is None else args, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as e:
        raise TypeError(f"the arguments are not JSON-serialisable: {e}") from None


def parse_json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _leader_url(body: Any) -> Optional[str]:
    leader = body.get("leader") if isinstance(body, dict) else None
    url = leader.get("url") if isinstance(leader, dict) else None
    if not isinstance(url, str) or not url:
        return None
    try:
        return normalize_endpoint(url)
    except TypeError:
        return None


def _describe(spec: CallSpec) -> str:
    if spec.kind == "schema":
        return f"the schema of group {spec.group!r}"
    if spec.kind == "admin":
        return spec.name
    return f"{spec.kind} {spec.name!r} of group {spec.group!r}"


def run_call(spec: CallSpec, router: LeaderRouter, token: Optional[str], attempt_timeout: float) -> Generator[Step, Outcome, Any]:
    deadline = time.monotonic() + spec.timeout
    backoff = Backoff()
    last: Optional[RaftkitError] = None
    redirects = 0
    attempts = 0
    # the leader named by the hints is unreachable from here: let a live node forward instead
    forward = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _deadline(spec, attempts, last)
        no_forward = spec.leader_only and not forward
        if spec.target is not None:
            url = spec.target
        else:
            url = router.leader_target(spec.group) if no_forward else router.any_target()
        headers = {"accept": "application/json", **spec.extra_headers}
        if spec.body is not None:
            headers["content-type"] = "application/json"
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        if no_forward:
            headers["x-raft-no-forward"] = "1"
        if spec.session is not None:
            headers["x-raft-client-id"] = spec.session[0]
            headers["x-raft-sequence"] = str(spec.session[1])
        attempts += 1
        cut_by_deadline = remaining <= attempt_timeout
        out = yield Attempt(url, spec.method, spec.path, headers, spec.body, min(remaining, attempt_timeout))
        if isinstance(out, NetworkFailure):
            err = NetworkError(f"{url}{spec.path}: {out.message}")
            if out.timed_out and cut_by_deadline:
                raise _deadline(spec, attempts, last or err)
            last = err
            forward = False
            router.failed(url, True)
            router.forget_leader(spec.group, url)
        elif isinstance(out, RawAnswer):
            body = parse_json(out.data)
            status = out.status
            if 200 <= status < 300:
                value = spec.read(out.data.decode("utf-8", "replace") if spec.raw_text else body)
                if value is _MISSING:
                    raise BadResponseError(f"{url}{spec.path} answered {status} without {spec.shape}", status=status)
                if no_forward:
                    router.learn_leader(spec.group, url)
                return value
            err = spec.errors(status, body)
            if status == 421:
                last = err
                forward = False
                router.forget_leader(spec.group, url)
                hint = _leader_url(body)
                if hint is not None and hint != url:
                    if router.is_down(hint):
                        forward = True
                    else:
                        router.learn_leader(spec.group, hint)
                    redirects += 1
                    if redirects <= FREE_REDIRECTS:
                        continue
                else:
                    router.failed(url, False)
            elif status in RETRY_STATUS:
                last = err
                forward = False
                router.failed(url, False)
                router.forget_leader(spec.group, url)
            else:
                raise err
        else:  # pragma: no cover - a driver bug
            raise RuntimeError("the call's driver sent nothing back")
        redirects = 0
        pause = min(backoff.next(), deadline - time.monotonic())
        if pause > 0:
            yield Sleep(pause)


def _deadline(spec: CallSpec, attempts: int, last: Optional[RaftkitError]) -> DeadlineExceededError:
    maybe = " (it may still be applied: its outcome is unknown)" if spec.kind == "command" else ""
    last_text = f"; last error: {last.code}: {last.message}" if last else ""
    details: Dict[str, Any] = {"attempts": attempts}
    if last is not None:
        details["lastCode"] = last.code
        details.update({k: v for k, v in last.details.items() if k in ("leader", "outcome")})
    err = DeadlineExceededError(
        f"{_describe(spec)} did not succeed within {spec.timeout:g} s after {attempts} attempt(s){maybe}{last_text}",
        status=last.status if last else None,
        details=details,
    )
    err.__cause__ = last
    return err
