"""``client.group("kv")``: one group, with its schema bound to Python attributes.

``kv.put(key="a", value="1")`` runs the command ``put``; ``kv.get(key="a",
consistency="lease")`` the query ``get``. Which names exist, and whether each is a command or a
query, comes from ``GET /v1/groups/{group}/schema`` (read once, then kept; read again once when a
name is missing, since the cluster may have been upgraded). Unknown names and bad arguments raise
before the operation is sent, naming the field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .errors import BadRequestError, UnknownCommandError
from .schema import GroupSchema, Operation, merge_args

if TYPE_CHECKING:  # pragma: no cover
    from .aio import AsyncClient
    from .client import Client
    from .watch import AsyncWatch, Watch


def _split_options(op: Operation, kwargs: Dict[str, Any]) -> "tuple[Optional[float], Optional[str]]":
    timeout = kwargs.pop("timeout", None)
    consistency = kwargs.pop("consistency", None)
    if consistency is not None and op.kind == "command":
        raise BadRequestError(f"{op.name!r} is a command; consistency applies to queries only", field="consistency")
    return timeout, consistency


class _GroupBase:
    def __init__(self, client: Any, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise BadRequestError(f"the group must be a non-empty string, got {name!r}", field="group")
        self._client = client
        self.name = name
        self._schema: Optional[GroupSchema] = None

    def _find(self, name: str) -> Optional[Operation]:
        return self._schema.find(name) if self._schema is not None else None

    def _unknown(self, name: str) -> UnknownCommandError:
        schema = self._schema
        names = ", ".join(schema.names()) if schema else "unknown"
        return UnknownCommandError(f"group {self.name!r} has no command or query {name!r} (it has: {names})")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class Group(_GroupBase):
    """A group of a sync :class:`~raftkit.Client`."""

    _client: "Client"

    def schema(self, *, refresh: bool = False, timeout: Optional[float] = None) -> GroupSchema:
        if self._schema is None or refresh:
            self._schema = GroupSchema(self._client._run(self._client._schema_spec(self.name, timeout)))
        return self._schema

    def command(self, name: str, args: Any = None, *, timeout: Optional[float] = None, **kwargs: Any) -> Any:
        return self._client.command(self.name, name, merge_args("command", name, args, kwargs), timeout=timeout)

    def query(self, name: str, args: Any = None, *, consistency: str = "linearizable", timeout: Optional[float] = None, **kwargs: Any) -> Any:
        return self._client.query(self.name, name, merge_args("query", name, args, kwargs), consistency=consistency, timeout=timeout)

    def watch(self, from_index: Optional[int] = None, **kw: Any) -> "Watch":
        return self._client.watch(self.name, from_index, **kw)

    def operation(self, name: str) -> "BoundOperation":
        op = self._find(name) or self.schema().find(name)
        if op is None:
            op = self.schema(refresh=True).find(name)
        if op is None:
            raise self._unknown(name)
        return BoundOperation(self, op)

    def __getattr__(self, name: str) -> "BoundOperation":
        if name.startswith("_"):
            raise AttributeError(name)
        return self.operation(name)

    def __dir__(self) -> List[str]:
        names = self._schema.names() if self._schema else []
        return sorted({*super().__dir__(), *names})


class BoundOperation:
    """One command or query of a group, called with keyword arguments."""

    def __init__(self, group: Group, op: Operation) -> None:
        self._group = group
        self.operation = op

    def __call__(self, args: Any = None, **kwargs: Any) -> Any:
        op = self.operation
        timeout, consistency = _split_options(op, kwargs)
        merged = merge_args(op.kind, op.name, args, kwargs)
        op.check(merged)
        client = self._group._client
        if op.kind == "command":
            return client.command(self._group.name, op.name, merged, timeout=timeout)
        return client.query(self._group.name, op.name, merged, consistency=consistency or "linearizable", timeout=timeout)

    def __repr__(self) -> str:
        return f"<{self.operation.kind} {self._group.name}.{self.operation.name}({', '.join(self.operation.args)})>"


class AsyncGroup(_GroupBase):
    """A group of an :class:`~raftkit.AsyncClient`: ``await kv.put(key="a", value="1")``."""

    _client: "AsyncClient"

    async def schema(self, *, refresh: bool = False, timeout: Optional[float] = None) -> GroupSchema:
        if self._schema is None or refresh:
            self._schema = GroupSchema(await self._client._run(self._client._schema_spec(self.name, timeout)))
        return self._schema

    async def bind(self) -> "AsyncGroup":
        """Reads the schema now (otherwise the first call does), so ``dir()`` lists the operations."""
        await self.schema()
        return self

    async def command(self, name: str, args: Any = None, *, timeout: Optional[float] = None, **kwargs: Any) -> Any:
        return await self._client.command(self.name, name, merge_args("command", name, args, kwargs), timeout=timeout)

    async def query(self, name: str, args: Any = None, *, consistency: str = "linearizable", timeout: Optional[float] = None, **kwargs: Any) -> Any:
        return await self._client.query(self.name, name, merge_args("query", name, args, kwargs), consistency=consistency, timeout=timeout)

    def watch(self, from_index: Optional[int] = None, **kw: Any) -> "AsyncWatch":
        return self._client.watch(self.name, from_index, **kw)

    async def operation(self, name: str) -> Operation:
        op = self._find(name) or (await self.schema()).find(name)
        if op is None:
            op = (await self.schema(refresh=True)).find(name)
        if op is None:
            raise self._unknown(name)
        return op

    def __getattr__(self, name: str) -> "AsyncBoundOperation":
        if name.startswith("_"):
            raise AttributeError(name)
        # The schema is read (or read again, for a name it lacks) when the call is awaited.
        return AsyncBoundOperation(self, name)

    def __dir__(self) -> List[str]:
        names = self._schema.names() if self._schema else []
        return sorted({*super().__dir__(), *names})


class AsyncBoundOperation:
    def __init__(self, group: AsyncGroup, name: str) -> None:
        self._group = group
        self.name = name

    async def __call__(self, args: Any = None, **kwargs: Any) -> Any:
        op = await self._group.operation(self.name)
        timeout, consistency = _split_options(op, kwargs)
        merged = merge_args(op.kind, op.name, args, kwargs)
        op.check(merged)
        client = self._group._client
        if op.kind == "command":
            return await client.command(self._group.name, op.name, merged, timeout=timeout)
        return await client.query(self._group.name, op.name, merged, consistency=consistency or "linearizable", timeout=timeout)
