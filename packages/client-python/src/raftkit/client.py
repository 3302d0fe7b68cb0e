"""The sync client: blocking calls on http.client keep-alive connections."""

from __future__ import annotations

import ssl
import time
from typing import Any, Callable, Dict, Generator, Optional, Sequence, Union

from ._api import ApiBase, Response
from ._http_sync import SyncTransport
from ._plan import CallSpec, Sleep, run_call
from .errors import ClosedError
from .group import Group
from .schema import GroupSchema
from .watch import Watch
from .wrappers import KV, SQL, Meta


def _same(value: Any) -> Any:
    return value


class Client(ApiBase):
    """A raftkit cluster from blocking code. Safe to share between threads.

    >>> with Client(["http://127.0.0.1:7001", "127.0.0.1:7002"], token=None) as client:
    ...     kv = client.group("kv")
    ...     result, index = kv.put(key="a", value="1")
    ...     kv.get(key="a", consistency="linearizable").result
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
        self._transport = SyncTransport(self.ssl_context)
        self._groups: Dict[str, Group] = {}
        self._closed = False

    def _drive(self, gen: Generator[Any, Any, Any]) -> Any:
        step = next(gen)
        while True:
            if self._closed:
                gen.close()
                raise ClosedError("the client was closed; create a new one")
            out = None
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
            else:
                out = self._transport.send(step)
            try:
                step = gen.send(out)
            except StopIteration as stop:
                return stop.value

    def _run(self, spec: CallSpec, post: Callable[[Any], Any] = _same) -> Any:
        if self._closed:
            raise ClosedError("the client was closed; create a new one")
        return post(self._drive(run_call(spec, self._router, self.token, self.attempt_timeout)))

    def _run_command(self, group: str, name: str, body: bytes, timeout: float) -> Response:
        lane = self._sessions.acquire()
        try:
            spec = self._command_spec(group, name, body, timeout, lane)
            return Response(*self._drive(run_call(spec, self._router, self.token, self.attempt_timeout)))
        finally:
            self._sessions.release(lane)

    def group(self, name: str) -> Group:
        """The group ``name``, its schema bound to attributes (read on first use)."""
        g = self._groups.get(name)
        if g is None:
            g = self._groups[name] = Group(self, name)
        return g

    def schema(self, group: str, *, timeout: Optional[float] = None) -> GroupSchema:
        return self.group(group).schema(refresh=True, timeout=timeout)

    def watch(self, group: str, from_index: Optional[int] = None, *, timeout: Optional[float] = None, idle_timeout: float = 30.0) -> Watch:
        """The applied entries of ``group`` from ``from_index`` (default: from now), resumed
        across node failures; ``timeout`` bounds how long it may go without any node."""
        return Watch(self, group, from_index, timeout=timeout, idle_timeout=idle_timeout)

    def kv(self, group: str = "kv") -> KV:
        return KV(self, group)

    def sql(self, group: str = "sql") -> SQL:
        return SQL(self, group)

    def meta(self) -> Meta:
        """The metadata center's etcd v3 JSON gateway (``/v3/...``) on the same nodes."""
        return Meta(self)

    def close(self) -> None:
        self._closed = True
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
