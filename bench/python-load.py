"""One load phase of npm run bench:python: commands from the raftkit Python client for a fixed
time, sync (threads) or async (asyncio tasks). Prints one JSON line."""

import argparse
import asyncio
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "packages", "client-python", "src"))
import raftkit  # noqa: E402


def args_for(command: str, n: int, i: int) -> dict:
    if command == "put":
        return {"key": f"py{n}-{i % 1000}", "value": "x" * 16}
    return {"sku": f"py{n % 100}", "qty": 1}


def run_sync(o: argparse.Namespace) -> dict:
    lat: list = []
    stop = time.monotonic() + o.seconds
    client = raftkit.Client(o.urls, timeout=30)

    def worker(n: int) -> None:
        i = 0
        while time.monotonic() < stop:
            t = time.perf_counter()
            client.command(o.group, o.command, args_for(o.command, n, i))
            lat.append(time.perf_counter() - t)
            i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(o.concurrency)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    return summary(lat, time.monotonic() - t0)


async def run_async(o: argparse.Namespace) -> dict:
    lat: list = []
    stop = time.monotonic() + o.seconds
    async with raftkit.AsyncClient(o.urls, timeout=30) as client:

        async def worker(n: int) -> None:
            i = 0
            while time.monotonic() < stop:
                t = time.perf_counter()
                await client.command(o.group, o.command, args_for(o.command, n, i))
                lat.append(time.perf_counter() - t)
                i += 1

        t0 = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(o.concurrency)))
        return summary(lat, time.monotonic() - t0)


def summary(lat: list, seconds: float) -> dict:
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else None  # noqa: E731
    return {"ops": len(lat), "seconds": round(seconds, 2), "opsPerSec": round(len(lat) / seconds), "p50ms": pick(0.5), "p99ms": pick(0.99)}


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--urls", required=True)
    p.add_argument("--group", default="kv")
    p.add_argument("--command", default="put")
    p.add_argument("--mode", choices=["sync", "async"], default="async")
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--seconds", type=float, default=5)
    o = p.parse_args()
    o.urls = o.urls.split(",")
    print(json.dumps(run_sync(o) if o.mode == "sync" else asyncio.run(run_async(o))))
