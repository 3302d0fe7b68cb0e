"""Typed errors: one class per error code of the HTTP API (docs/api.md section 2.1.2).

Every failure is a :class:`RaftkitError` with ``code`` (the server's code, or one of the
client's own: ``deadline_exceeded``, ``network``, ``closed``, ``bad_response``), ``status``
(the HTTP status, when there was one) and ``details`` (the extra fields of the answer:
``field``, ``leader``, ``firstIndex``, ``reason``, ``outcome``, ...).
"""

from __future__ import annotations

import builtins
from typing import Any, Dict, List, Optional


class RaftkitError(Exception):
    """Base of every raftkit error."""

    default_code = "internal"

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        status: Optional[int] = None,
        details: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code: str = code or self.default_code
        self.status = status
        self.details: Dict[str, Any] = dict(details or {})

    @property
    def field(self) -> Optional[str]:
        """For a 400: the argument, header or parameter the server (or the client) refused."""
        v = self.details.get("field")
        return v if isinstance(v, str) else None

    @property
    def fields(self) -> List[Dict[str, str]]:
        v = self.details.get("fields")
        return [f for f in v if isinstance(f, dict)] if isinstance(v, list) else []

    @property
    def reason(self) -> Optional[str]:
        v = self.details.get("reason")
        return v if isinstance(v, str) else None

    @property
    def outcome_unknown(self) -> bool:
        """True when a command may or may not have been applied (retry it with the same session)."""
        return self.details.get("outcome") == "unknown"

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class BadRequestError(RaftkitError, ValueError):
    """400: bad arguments, headers or parameters; ``field`` names the first bad one."""

    default_code = "bad_request"

    def __init__(self, message: str, field: Optional[str] = None, **kw: Any) -> None:
        details = dict(kw.pop("details", None) or {})
        if field is not None:
            details.setdefault("field", field)
        super().__init__(message, details=details, status=kw.pop("status", 400), **kw)


class UnauthorizedError(RaftkitError):
    """401: the cluster runs with a token and it was missing or wrong."""

    default_code = "unauthorized"


class NotFoundError(RaftkitError):
    """404: no such route or member."""

    default_code = "not_found"


class UnknownGroupError(NotFoundError):
    default_code = "unknown_group"


class UnknownCommandError(NotFoundError, AttributeError):
    """404 (or raised before any request): the group's state machine has no such command."""

    default_code = "unknown_command"


class UnknownQueryError(NotFoundError, AttributeError):
    default_code = "unknown_query"


class ConflictError(RaftkitError):
    """409: the request contradicts the state (``reason``: stale_sequence, request_expired, ...)."""

    default_code = "conflict"


class CompactedError(RaftkitError):
    """410: a watch from an index no node holds any more; resume from ``first_index``."""

    default_code = "compacted"

    def __init__(self, message: str, first_index: Optional[int] = None, **kw: Any) -> None:
        details = dict(kw.pop("details", None) or {})
        if first_index is not None:
            details["firstIndex"] = first_index
        super().__init__(message, details=details, status=kw.pop("status", 410), **kw)

    @property
    def first_index(self) -> Optional[int]:
        v = self.details.get("firstIndex")
        return v if isinstance(v, int) else None


class PayloadTooLargeError(RaftkitError):
    default_code = "payload_too_large"


class NotLeaderError(RaftkitError):
    """421: the node does not lead the group; ``leader`` is ``{"id", "url"?}`` when known."""

    default_code = "not_leader"

    @property
    def leader(self) -> Optional[Dict[str, Any]]:
        v = self.details.get("leader")
        return v if isinstance(v, dict) else None


class UnavailableError(RaftkitError):
    """503: no quorum or leader, the node is starting or stopping, a state machine is away."""

    default_code = "unavailable"


class TimeoutError(RaftkitError, builtins.TimeoutError):  # noqa: A001 - the API's code name
    """503 ``timeout``: the server's deadline passed (a command's outcome is then unknown)."""

    default_code = "timeout"


class DeadlineExceededError(TimeoutError):
    """The call's own deadline (``timeout=``) passed before any attempt succeeded."""

    default_code = "deadline_exceeded"


class InternalError(RaftkitError):
    """500: a state machine handler failed, or the node hit an unexpected error."""

    default_code = "internal"


class NetworkError(RaftkitError, ConnectionError):
    """The connection failed (refused, reset, closed early) or an attempt timed out."""

    default_code = "network"


class ClosedError(RaftkitError):
    """The client or the watch was closed."""

    default_code = "closed"


class BadResponseError(RaftkitError):
    """The server answered something that is not raftkit's JSON."""

    default_code = "bad_response"


class SlowConsumerError(RaftkitError):
    default_code = "slow_consumer"


_BY_CODE = {
    "bad_request": BadRequestError,
    "unauthorized": UnauthorizedError,
    "not_found": NotFoundError,
    "unknown_group": UnknownGroupError,
    "unknown_command": UnknownCommandError,
    "unknown_query": UnknownQueryError,
    "conflict": ConflictError,
    "compacted": CompactedError,
    "payload_too_large": PayloadTooLargeError,
    "not_leader": NotLeaderError,
    "unavailable": UnavailableError,
    "timeout": TimeoutError,
    "internal": InternalError,
    "slow_consumer": SlowConsumerError,
}


def error_for(code: str, message: str, status: Optional[int] = None, details: Optional[Dict[str, Any]] = None) -> RaftkitError:
    """The typed error for a code (unknown codes give a plain RaftkitError keeping the code)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return RaftkitError(message, code=code, status=status, details=details)
    err = cls.__new__(cls)
    RaftkitError.__init__(err, message, code=code, status=status, details=details)
    return err


def error_from_body(status: int, body: Any) -> RaftkitError:
    """The error for a server's ``{"error": CODE, "message": ...}`` answer (or for one that is not)."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        details = {k: v for k, v in body.items() if k not in ("error", "message")}
        message = body.get("message") if isinstance(body.get("message"), str) else f"the server answered {status} {body['error']}"
        return error_for(body["error"], message, status, details)
    if status == 503:
        return UnavailableError(f"the server answered HTTP {status} without a raftkit error body", status=status)
    return BadResponseError(f"the server answered HTTP {status} without a raftkit error body", status=status)
