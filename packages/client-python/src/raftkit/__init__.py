"""raftkit for Python: a client for raftkit clusters (standard library only) and Python state
machines served to raftkit nodes over WebSocket (``serve_state_machine``, which needs the
``websockets`` package)."""

from ._api import Response
from .aio import AsyncClient
from .client import Client
from .errors import (
    BadRequestError,
    BadResponseError,
    ClosedError,
    CompactedError,
    ConflictError,
    DeadlineExceededError,
    InternalError,
    NetworkError,
    NotFoundError,
    NotLeaderError,
    PayloadTooLargeError,
    RaftkitError,
    SlowConsumerError,
    TimeoutError,
    UnauthorizedError,
    UnavailableError,
    UnknownCommandError,
    UnknownGroupError,
    UnknownQueryError,
)
from .group import AsyncGroup, Group
from .machine import Context, command, query, restore, snapshot, state_machine
from .schema import GroupSchema, Operation
from .serve import serve_state_machine, serve_state_machine_async
from .watch import AsyncWatch, Watch, WatchEntry
from .wrappers import KV, SQL, Meta

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AsyncGroup",
    "AsyncWatch",
    "BadRequestError",
    "BadResponseError",
    "Client",
    "ClosedError",
    "CompactedError",
    "ConflictError",
    "Context",
    "DeadlineExceededError",
    "Group",
    "GroupSchema",
    "InternalError",
    "KV",
    "Meta",
    "NetworkError",
    "NotFoundError",
    "NotLeaderError",
    "Operation",
    "PayloadTooLargeError",
    "RaftkitError",
    "Response",
    "SQL",
    "SlowConsumerError",
    "TimeoutError",
    "UnauthorizedError",
    "UnavailableError",
    "UnknownCommandError",
    "UnknownGroupError",
    "UnknownQueryError",
    "Watch",
    "WatchEntry",
    "command",
    "query",
    "restore",
    "serve_state_machine",
    "serve_state_machine_async",
    "snapshot",
    "state_machine",
]
