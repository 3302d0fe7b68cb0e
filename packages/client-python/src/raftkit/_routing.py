"""Where requests go: endpoint parsing, the leader of each group (learned from 421 answers),
failover past nodes that are down, and the backoff between attempts. Mirrors the TypeScript
SDK's LeaderRouter and Backoff (packages/client/src)."""

from __future__ import annotations

import random
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence
from urllib.parse import urlsplit


def normalize_endpoint(endpoint: str) -> str:
    """``http://h:p``, ``https://h:p`` or ``h:p`` -> a base URL without a trailing slash."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise TypeError(f'an endpoint must be a non-empty string such as "http://127.0.0.1:7001", got {endpoint!r}')
    text = endpoint.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise TypeError(f"endpoint {endpoint!r} must use http or https, not {parts.scheme}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise TypeError(f"endpoint {endpoint!r} must not carry a query, fragment or credentials (pass token=)")
    if not parts.hostname or parts.port is None and not parts.netloc:
        raise TypeError(f"endpoint {endpoint!r} has no host")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class Backoff:
    """Exponential backoff; each delay is drawn from [base/2, base]."""

    def __init__(self, initial: float = 0.05, maximum: float = 2.0) -> None:
        self.base = initial
        self.maximum = maximum

    def next(self) -> float:
        base = self.base
        self.base = min(self.base * 2, self.maximum)
        return base / 2 + random.random() * base / 2


class LeaderRouter:
    """The known leader of each group and a sticky current endpoint that moves on when it fails.
    Nodes that failed at the connection level are skipped for ``down_for`` seconds unless every
    node is down. Thread-safe: the sync client may be shared by threads."""

    def __init__(self, endpoints: Sequence[str], down_for: float = 2.0, now: Callable[[], float] = time.monotonic) -> None:
        if not endpoints:
            raise TypeError("at least one node URL is needed")
        self.endpoints: List[str] = [normalize_endpoint(e) for e in endpoints]
        self._leaders: Dict[str, str] = {}
        self._down_until: Dict[str, float] = {}
        self._current = 0
        self._down_for = down_for
        self._now = now
        self._lock = threading.Lock()

    def leader_of(self, group: str) -> Optional[str]:
        return self._leaders.get(group)

    def leader_target(self, group: str) -> str:
        return self._leaders.get(group) or self.any_target()

    def any_target(self) -> str:
        return self.endpoints[self._current]

    def learn_leader(self, group: str, url: str) -> None:
        with self._lock:
            self._leaders[group] = url
            self._down_until.pop(url, None)

    def forget_leader(self, group: str, url: Optional[str] = None) -> None:
        with self._lock:
            if url is None or self._leaders.get(group) == url:
                self._leaders.pop(group, None)

    def failed(self, url: str, down: bool) -> None:
        with self._lock:
            if down:
                self._down_until[url] = self._now() + self._down_for
                for g in [g for g, u in self._leaders.items() if u == url]:
                    del self._leaders[g]
            if self.endpoints[self._current] == url:
                self._advance()

    def is_down(self, url: str) -> bool:
        until = self._down_until.get(url)
        return until is not None and until > self._now()

    def advance(self) -> None:
        with self._lock:
            self._advance()

    def _advance(self) -> None:
        n = len(self.endpoints)
        for step in range(1, n + 1):
            i = (self._current + step) % n
            if not self.is_down(self.endpoints[i]):
                self._current = i
                return
        self._current = (self._current + 1) % n
