"""Live raftkit clusters for the tests: ``raftkit-kv`` node processes on 127.0.0.1 (free
ports, temporary data dirs), killed by PID and removed in ``stop()``. Optionally with a Python
state machine type (``--remote-machine``) and one Python machine process per node."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Dict, List, Optional

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
KV_BIN = os.path.join(ROOT, "packages", "kv-demo", "bin", "raftkit-kv.js")
SQL_BIN = os.path.join(ROOT, "packages", "sql-demo", "bin", "raftkit-sql.js")
META_BIN = os.path.join(ROOT, "packages", "metadata-demo", "bin", "raftkit-meta.js")
NODE = os.environ.get("RAFTKIT_NODE", "node")
FAST = ["--election-ms", "300", "--heartbeat-ms", "50"]


def free_ports(n: int) -> List[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def http_json(url: str, method: str = "GET", body: Optional[dict] = None, timeout: float = 5.0, context: Optional[ssl.SSLContext] = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
        return json.loads(r.read())


class Cluster:
    def __init__(self, n: int = 3, extra: Optional[List[str]] = None, group: str = "kv", bin: str = KV_BIN, ca_file: Optional[str] = None) -> None:
        # With ca_file the nodes serve https (the caller passes --tls-cert/--tls-key in extra).
        self.scheme = "https" if ca_file else "http"
        self.context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.bin = bin
        self.ids = list(range(1, n + 1))
        self.ports = dict(zip(self.ids, free_ports(n)))
        self.root = tempfile.mkdtemp(prefix="raftkit-py-")
        self.extra = list(extra or [])
        self.group = group
        self.procs: Dict[int, subprocess.Popen] = {}
        self.logs: Dict[int, str] = {}

    def url(self, i: int) -> str:
        return f"{self.scheme}://127.0.0.1:{self.ports[i]}"

    @property
    def urls(self) -> List[str]:
        return [self.url(i) for i in self.ids]

    def args(self, i: int) -> List[str]:
        peers = ",".join(f"{j}=127.0.0.1:{self.ports[j]}" for j in self.ids)
        return [self.bin, "--id", str(i), "--listen", f"127.0.0.1:{self.ports[i]}", "--peers", peers, "--data-dir", os.path.join(self.root, f"n{i}"), "--log-level", "warn", *FAST, *self.extra]

    def start(self, i: Optional[int] = None) -> None:
        for j in [i] if i is not None else self.ids:
            log = open(os.path.join(self.root, f"n{j}.log"), "ab")
            self.procs[j] = subprocess.Popen([NODE, *self.args(j)], stdout=subprocess.DEVNULL, stderr=log)
            log.close()

    def kill(self, i: int, sig: int = signal.SIGKILL) -> None:
        p = self.procs.pop(i, None)
        if p is not None:
            p.send_signal(sig)
            p.wait(timeout=15)

    def status(self, i: int) -> dict:
        return http_json(self.url(i) + "/v1/status", timeout=2, context=self.context)

    def group_status(self, i: int, group: Optional[str] = None) -> Optional[dict]:
        for g in self.status(i)["groups"]:
            if g["group"] == (group or self.group):
                return g
        return None

    def leader(self, group: Optional[str] = None, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i in list(self.procs):
                try:
                    g = self.group_status(i, group)
                except OSError:
                    continue
                if g and g["role"] == "leader":
                    return i
            time.sleep(0.05)
        raise AssertionError(f"no leader of {group or self.group} within {timeout} s; logs: {self.tail_logs()}")

    def tail_logs(self) -> str:
        out = []
        for i in self.ids:
            path = os.path.join(self.root, f"n{i}.log")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    out.append(f"--- node {i}\n" + f.read()[-1500:].decode(errors="replace"))
        return "\n".join(out)

    def stop(self) -> None:
        for i in list(self.procs):
            self.kill(i)
        if not os.environ.get("RAFTKIT_KEEP_DATA"):
            shutil.rmtree(self.root, ignore_errors=True)


def wait_until(check, timeout: float = 20.0, what: str = "the condition", interval: float = 0.05):
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            v = check()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen within {timeout} s (last error: {last!r})")


def python_env() -> Dict[str, str]:
    env = dict(os.environ)
    src = os.path.join(ROOT, "packages", "client-python", "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [src, env.get("PYTHONPATH", "")] if p)
    return env


def start_python(script: str, *args: str, log: Optional[str] = None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen([sys.executable, script, *args], env=python_env(), stdout=out, stderr=out)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
