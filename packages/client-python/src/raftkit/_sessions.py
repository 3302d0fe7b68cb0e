"""Exactly-once sessions (docs/api.md section 2.6): a client id and an increasing sequence.

The server keeps only the last sequence per client id and refuses older ones, so commands that
run at the same time each take a lane of their own: the client id itself, then
``<client id>~1``, ``~2``, ... A lane is reused once its command has settled. Sequences start
at the current time in microseconds, so a restarted process with the same stable client id
stays ahead of its earlier sequences (as the TypeScript SDK does).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import List


@dataclass
class SessionLane:
    client_id: str
    n: int
    sequence: int

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


class SessionPool:
    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self._free: List[SessionLane] = []
        self._created = 0
        self._lock = threading.Lock()

    def acquire(self) -> SessionLane:
        with self._lock:
            if self._free:
                return self._free.pop()
            n = self._created
            self._created += 1
        cid = self.client_id if n == 0 else f"{self.client_id}~{n}"
        return SessionLane(cid, n, int(time.time() * 1000) * 1000)

    def release(self, lane: SessionLane) -> None:
        with self._lock:
            self._free.append(lane)
            # lowest lane last, so a sequential client keeps using its plain id
            self._free.sort(key=lambda l: -l.n)

    @property
    def size(self) -> int:
        return self._created
