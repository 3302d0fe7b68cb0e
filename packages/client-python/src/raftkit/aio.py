"""The asyncio client: the same names and rules as :class:`~raftkit.Client`, awaited."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Callable, Dict, Generator, Optional, Sequence, Union

from ._api import ApiBase, Response
from ._http_async import AsyncTransport
from ._plan import CallSpec, Sleep, run_call
from .errors import ClosedError
from .group import AsyncGroup
from .schema import GroupSchema
from .watch import AsyncWatch
from .wrappers import KV, SQL, Meta


def _same(value: Any) -> Any:
    return value


class AsyncClient(ApiBase):
    """A raftkit cluster from asyncio code. Use it from one event loop.

    >>> async with AsyncClient("http://127.0.0.1:7001") as client:
    ...     kv = client.group("kv")
    ...     result, index = await kv.put(key="a", value="1")
    """

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
        super().__init__(urls, token=token, timeout=timeout, attempt_timeout=attempt_timeout, client_id=client_id, ca_file=ca_file, ssl_context=ssl_context)
        self._transport = AsyncTransport(self.ssl_context)
        self._groups: Dict[str, AsyncGroup] = {}
        self._closed = False

    async def _drive(self, gen: Generator[Any, Any, Any]) -> Any:
        step = next(gen)
        while True:
            if self._closed:
                gen.close()
                raise ClosedError("the client was closed; create a new one")
            out = None
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
            else:
                out = await self._transport.send(step)
            try:
                step = gen.send(out)
            except StopIteration as stop:
                return stop.value

    async def _run(self, spec: CallSpec, post: Callable[[Any], Any] = _same) -> Any:
        if self._closed:
            raise ClosedError("the client was closed; create a new one")
        return post(await self._drive(run_call(spec, self._router, self.token, self.attempt_timeout)))

    async def _run_command(self, group: str, name: str, body: bytes, timeout: float) -> Response:
        lane = self._sessions.acquire()
        try:
            spec = self._command_spec(group, name, body, timeout, lane)
            return Response(*await self._drive(run_call(spec, self._router, self.token, self.attempt_timeout)))
        finally:
            self._sessions.release(lane)

    def group(self, name: str) -> AsyncGroup:
        g = self._groups.get(name)
        if g is None:
            g = self._groups[name] = AsyncGroup(self, name)
        return g

    async def schema(self, group: str, *, timeout: Optional[float] = None) -> GroupSchema:
        return await self.group(group).schema(refresh=True, timeout=timeout)

    def watch(self, group: str, from_index: Optional[int] = None, *, timeout: Optional[float] = None, idle_timeout: float = 30.0) -> AsyncWatch:
        return AsyncWatch(self, group, from_index, timeout=timeout, idle_timeout=idle_timeout)

    def kv(self, group: str = "kv") -> KV:
        return KV(self, group)

    def sql(self, group: str = "sql") -> SQL:
        return SQL(self, group)

    def meta(self) -> Meta:
        return Meta(self)

    async def close(self) -> None:
        self._closed = True
        self._transport.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
