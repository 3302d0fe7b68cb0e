"""The sync and async clients against a live 3-node raftkit-kv cluster (and a 1-node cluster
with a token and small snapshots): every call, routing and retries across a leader kill with
no duplicate applies, watch resume, typed errors and bad input."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import raftkit
from raftkit._plan import NetworkFailure
from cluster import ROOT, Cluster, wait_until

C: Cluster


def setUpModule() -> None:
    global C
    C = Cluster(3)
    C.start()
    C.leader()


def tearDownModule() -> None:
    C.stop()


def counting(client: raftkit.Client) -> list:
    """Records every HTTP attempt the client makes."""
    sent: list = []
    real = client._transport.send

    def send(a):  # type: ignore[no-untyped-def]
        sent.append(a)
        return real(a)

    client._transport.send = send  # type: ignore[method-assign]
    return sent


def watched(urls, group: str, from_index: int, until: int, timeout: float = 20.0) -> list:
    out = []
    with raftkit.Client(urls) as c:
        w = c.watch(group, from_index=from_index, timeout=timeout)
        for e in w:
            out.append(e)
            if e.index >= until:
                break
        w.cancel()
    return out


def retry_conflict(call, done: str, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """A membership change right after another may be refused until the first is applied (409,
    retried here); an admin call is retried on a 503 like any call, without a session, so a
    retry of a change that was applied answers 409 saying so (``done``)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except raftkit.ConflictError as e:
            if done in e.message:
                return None
            if "not applied yet" not in e.message or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class SyncClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = raftkit.Client(C.urls)
        self.kv = self.client.group("kv")
        self.p = f"t{uuid.uuid4().hex[:6]}/"

    def tearDown(self) -> None:
        self.client.close()

    def test_schema_bound_operations_round_trip(self) -> None:
        r = self.kv.put(key=self.p + "a", value="1")
        self.assertIsInstance(r, raftkit.Response)
        self.assertEqual(set(r.result), {"revision"})
        self.assertGreater(r.index, 0)
        got = self.kv.get(key=self.p + "a", consistency="linearizable")
        self.assertEqual(got.result["value"], "1")
        self.assertEqual(got.result["revision"], r.result["revision"])
        self.assertEqual(self.kv.get({"key": self.p + "a"}, consistency="local", timeout=5).result["value"] in ("1", None), True)
        self.assertTrue(self.kv.cas(key=self.p + "a", expected="1", value="2").result["succeeded"])
        self.assertFalse(self.kv.cas(key=self.p + "a", expected="1", value="3").result["succeeded"])
        self.assertEqual(self.kv.get(key=self.p + "a", consistency="lease").result["value"], "2")
        self.assertEqual([i["key"] for i in self.kv.range(prefix=self.p, limit=5).result["items"]], [self.p + "a"])
        self.assertTrue(self.kv.delete(key=self.p + "a").result["deleted"])
        self.assertIsNone(self.kv.get(key=self.p + "a").result["value"])
        self.assertEqual(self.kv.schema().names(), ["cas", "delete", "get", "put", "range"])
        self.assertIn("put", dir(self.kv))
        # the generic forms and the KV wrapper reach the same state machine
        self.assertEqual(self.client.command("kv", "put", {"key": self.p + "b", "value": "x"}).result["revision"], self.client.kv().get(self.p + "b").result["revision"])
        self.assertEqual(self.kv.query("get", key=self.p + "b").result["value"], "x")

    def test_unknown_names_and_bad_args_raise_before_any_request(self) -> None:
        self.kv.schema()
        sent = counting(self.client)
        with self.assertRaises(raftkit.UnknownCommandError) as e:
            self.kv.putt(key="a", value="1")
        self.assertIn("putt", str(e.exception))
        # schema read once more (the cluster may have been upgraded), nothing else
        self.assertEqual([a.path for a in sent], ["/v1/groups/kv/schema"])
        sent.clear()
        cases = [
            (dict(key="a"), "value"),
            (dict(key="a", value=1), "value"),
            (dict(key="a", value="1", ttl=3), "ttl"),
            (dict(key=None, value="1"), "key"),
        ]
        for args, field in cases:
            with self.assertRaises(raftkit.BadRequestError) as e:
                self.kv.put(**args)
            self.assertEqual(e.exception.field, field, args)
        with self.assertRaises(raftkit.BadRequestError) as e:
            self.kv.range(prefix="", limit="3")
        self.assertEqual(e.exception.field, "limit")
        with self.assertRaises(raftkit.BadRequestError) as e:
            self.kv.put(key="a", value="1", consistency="lease")
        self.assertEqual(e.exception.field, "consistency")
        with self.assertRaises(raftkit.BadRequestError):
            self.client.query("kv", "get", {"key": "a"}, consistency="strong")
        with self.assertRaises(raftkit.BadRequestError):
            self.kv.put(key="a", value="1", timeout=-1)
        with self.assertRaises(TypeError):
            self.client.command("kv", "put", {"key": "a", "value": object()})
        self.assertEqual(sent, [])

    def test_server_refusals_are_typed(self) -> None:
        with self.assertRaises(raftkit.BadRequestError) as e:
            self.kv.put(key="", value="1")  # the schema allows it; the server's validation does not
        self.assertEqual(e.exception.field, "key")
        self.assertEqual(e.exception.status, 400)
        with self.assertRaises(raftkit.UnknownGroupError):
            self.client.command("nope", "put", {"key": "a", "value": "1"})
        with self.assertRaises(raftkit.UnknownCommandError):
            self.client.command("kv", "putt", {})
        with self.assertRaises(raftkit.UnknownQueryError):
            self.client.query("kv", "gett", {})
        with self.assertRaises(raftkit.NotFoundError):
            self.client.remove_member("kv", 99)
        with self.assertRaises(raftkit.BadRequestError) as e:
            self.client.transfer_leader("kv", 99)
        self.assertEqual(e.exception.field, "to")

    def test_leader_routing_from_421_hints(self) -> None:
        leader = C.leader()
        followers = [C.url(i) for i in C.ids if i != leader]
        with raftkit.Client(followers + [C.url(leader)]) as c:
            sent = counting(c)
            c.kv().put(self.p + "r", "1")
            self.assertEqual(c._router.leader_of("kv"), C.url(leader))
            self.assertEqual(sent[0].headers.get("x-raft-no-forward"), "1")
            self.assertEqual(sent[-1].url, C.url(leader))
            sent.clear()
            c.kv().put(self.p + "r", "2")
            self.assertEqual([a.url for a in sent], [C.url(leader)], "the cached leader is asked first")

    def test_exactly_once_when_the_answer_is_lost(self) -> None:
        real = self.client._transport.send
        lost = []

        def lose_first_answer(a):  # type: ignore[no-untyped-def]
            out = real(a)
            if "/commands/" in a.path and not lost and getattr(out, "status", 0) == 200:
                lost.append(out)
                return NetworkFailure("reset after sending (simulated)")
            return out

        self.client._transport.send = lose_first_answer  # type: ignore[method-assign]
        r = self.kv.put(key=self.p + "once", value="v")
        self.assertEqual(len(lost), 1)
        import json

        self.assertEqual(json.loads(lost[0].data)["index"], r.index, "the retry answers the first entry's index")
        entries = [e for e in watched(C.urls, "kv", r.index, r.index) if e.args.get("key") == self.p + "once"]
        self.assertEqual(len(entries), 1)

    def test_admin_calls(self) -> None:
        st = self.client.status()
        self.assertIn(st["id"], C.ids)
        self.assertEqual([g["group"] for g in self.client.groups(C.url(1))["groups"]], ["kv"])
        self.assertEqual(self.client.status(C.url(2))["id"], 2)
        self.assertIn("raftkit_proposals_total", self.client.metrics(C.url(1)))
        self.assertEqual(self.client.health(C.url(3)), {"status": "ok"})
        r = self.client.add_learner("kv", 9, "127.0.0.1:1")
        self.assertEqual(r["role"], "learner")
        self.assertEqual(self.client.promote("kv", 9)["role"], "voter")
        # the role shows in the members once the change took effect (a demote checks it there)
        wait_until(lambda: ("voter", 9) in [(m["role"], m["id"]) for m in self.client.status(C.url(C.leader()))["groups"][0]["members"]], 10, "node 9 is a voter")
        # a change right after another may be refused until the first is applied (409, retried)
        self.assertIn(retry_conflict(lambda: self.client.demote("kv", 9), "is a learner"), ({"group": "kv", "id": 9, "role": "learner"}, None))
        wait_until(lambda: ("learner", 9) in [(m["role"], m["id"]) for m in self.client.status(C.url(C.leader()))["groups"][0]["members"]], 10, "node 9 is a learner")
        try:
            self.assertTrue(retry_conflict(lambda: self.client.remove_member("kv", 9), "not a member")["removed"])
        except raftkit.NotFoundError:
            pass  # an earlier attempt removed it (checked below)
        wait_until(lambda: 9 not in [m["id"] for m in self.client.status(C.url(1))["groups"][0]["members"]], 10, "node 9 leaves")
        with self.assertRaises(raftkit.BadRequestError):
            self.client.add_member("kv", 0, "127.0.0.1:1")
        leader = C.leader()
        to = next(i for i in C.ids if i != leader)
        self.assertEqual(self.client.transfer_leader("kv", to)["to"], to)
        self.assertEqual(C.leader(), to)
        snap = self.client.snapshot("kv", C.url(1))
        self.assertGreater(snap["index"], 0)

    def test_watch_in_order_with_cancel_from_another_thread(self) -> None:
        first = self.kv.put(key=self.p + "w", value="0").index
        for i in range(1, 5):
            self.kv.put(key=self.p + "w", value=str(i))
        w = self.client.watch("kv", from_index=first)
        got = []
        timer = threading.Timer(1.5, w.cancel)
        timer.start()
        for e in w:
            if e.args.get("key") == self.p + "w":
                got.append(e.args["value"])
        timer.cancel()
        self.assertEqual(got, ["0", "1", "2", "3", "4"])
        self.assertIsInstance(w.next_index, int)

    def test_watch_without_from_starts_now(self) -> None:
        w = self.client.watch("kv")
        got = []

        def read() -> None:
            for e in w:
                got.append(e)
                break

        t = threading.Thread(target=read)
        t.start()
        wait_until(lambda: w.next_index is not None, 10, "the watch connects")
        r = self.kv.put(key=self.p + "now", value="1")
        t.join(10)
        self.assertEqual(got[0].index, r.index)

    def test_deadline_when_no_node_answers(self) -> None:
        with raftkit.Client(["127.0.0.1:1", "127.0.0.1:2"], timeout=0.6) as c:
            t0 = time.monotonic()
            with self.assertRaises(raftkit.DeadlineExceededError) as e:
                c.kv().put("a", "1")
            self.assertLess(time.monotonic() - t0, 3)
            self.assertIsInstance(e.exception, raftkit.TimeoutError)
            self.assertEqual(e.exception.details["lastCode"], "network")
        with self.assertRaises(raftkit.ClosedError):
            c.kv().put("a", "1")


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    async def test_every_call_async(self) -> None:
        p = f"a{uuid.uuid4().hex[:6]}/"
        async with raftkit.AsyncClient(C.urls) as c:
            kv = c.group("kv")
            r = await kv.put(key=p + "a", value="1")
            self.assertEqual((await kv.get(key=p + "a", consistency="linearizable")).result["value"], "1")
            self.assertTrue((await kv.cas(key=p + "a", expected="1", value="2")).result["succeeded"])
            self.assertEqual((await c.kv().range(p)).result["items"][0]["value"], "2")
            self.assertTrue((await kv.delete(key=p + "a")).result["deleted"])
            self.assertIn("put", dir(await kv.bind()))
            with self.assertRaises(raftkit.UnknownCommandError):
                await kv.putt(key="a")
            with self.assertRaises(raftkit.BadRequestError) as e:
                await kv.put(key="a", value=3)
            self.assertEqual(e.exception.field, "value")
            with self.assertRaises(raftkit.UnknownGroupError):
                await c.query("nope", "get", {"key": "a"})
            st = await c.status()
            self.assertIn(st["id"], C.ids)
            self.assertIn("raftkit_", await c.metrics(C.url(2)))
            # 64 commands at once: each on a session lane of its own, each applied once
            results = await asyncio.gather(*(kv.put(key=f"{p}c{i}", value=str(i)) for i in range(64)))
            self.assertEqual(len({x.index for x in results}), 64)
            self.assertGreaterEqual(c._sessions.size, 2)
            seen = []
            w = c.watch("kv", from_index=r.index)
            async for e in w:
                if e.args.get("key", "").startswith(p + "c"):
                    seen.append(e.args["key"])
                if len(seen) == 64:
                    w.cancel()
            self.assertEqual(sorted(seen), sorted(f"{p}c{i}" for i in range(64)))


class LeaderKillTest(unittest.TestCase):
    """Commands keep flowing across a kill -9 of the leader; none is applied twice."""

    def test_sync_and_async_commands_across_a_leader_kill(self) -> None:
        p = f"k{uuid.uuid4().hex[:6]}/"
        with raftkit.Client(C.urls) as c0:
            start = c0.kv().put(p + "start", "x").index
        done: list = []
        errors: list = []
        stop = threading.Event()

        def writer(n: int) -> None:
            with raftkit.Client(C.urls, timeout=20) as c:
                i = 0
                while not stop.is_set():
                    try:
                        c.kv().put(f"{p}s{n}-{i}", "v")
                        done.append(f"{p}s{n}-{i}")
                    except raftkit.RaftkitError as e:
                        errors.append(e)
                    i += 1

        async def async_writer() -> None:
            async with raftkit.AsyncClient(C.urls, timeout=20) as c:
                i = 0
                while not stop.is_set():
                    keys = [f"{p}a{i}-{j}" for j in range(8)]
                    await asyncio.gather(*(c.kv().put(k, "v") for k in keys))
                    done.extend(keys)
                    i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        threads.append(threading.Thread(target=lambda: asyncio.run(async_writer())))
        for t in threads:
            t.start()
        time.sleep(0.7)
        leader = C.leader()
        C.kill(leader)
        time.sleep(1.5)
        C.start(leader)
        time.sleep(0.7)
        stop.set()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertGreater(len(done), 50)
        with raftkit.Client(C.urls) as c0:
            end = c0.kv().put(p + "end", "x").index
        keys = [e.args["key"] for e in watched(C.urls, "kv", start, end) if e.args.get("key", "").startswith(p)]
        self.assertEqual(len(keys), len(set(keys)), "no command applied twice")
        self.assertEqual(set(keys), set(done) | {p + "start", p + "end"}, "every acknowledged command applied")


class WatchResumeTest(unittest.TestCase):
    def test_watch_resumes_on_another_node_without_gaps_or_duplicates(self) -> None:
        p = f"r{uuid.uuid4().hex[:6]}/"
        client = raftkit.Client(C.urls, timeout=20)
        first = client.kv().put(p + "0", "0").index
        victim = 1 if C.leader() != 1 else 2
        order = [C.url(victim)] + [C.url(i) for i in C.ids if i != victim]
        got = []
        with raftkit.Client(order) as wc:
            w = wc.watch("kv", from_index=first, timeout=20)
            it = iter(w)
            got.append(next(it))
            for i in range(1, 20):
                client.kv().put(p + str(i), str(i))
                if i == 10:
                    C.kill(victim)
            while len([e for e in got if e.args.get("key", "").startswith(p)]) < 20:
                got.append(next(it))
            w.cancel()
        C.start(victim)
        mine = [e.args["key"] for e in got if e.args.get("key", "").startswith(p)]
        self.assertEqual(mine, [p + str(i) for i in range(20)])
        idx = [e.index for e in got]
        self.assertEqual(idx, sorted(set(idx)))
        client.close()

    def test_async_watch_resumes_after_a_node_kill(self) -> None:
        async def run() -> list:
            p = f"ar{uuid.uuid4().hex[:6]}/"
            async with raftkit.AsyncClient(C.urls, timeout=20) as c:
                first = (await c.kv().put(p + "0", "0")).index
                victim = 3 if C.leader() != 3 else 2
                wc = raftkit.AsyncClient([C.url(victim)] + [C.url(i) for i in C.ids if i != victim])
                w = wc.watch("kv", from_index=first, timeout=20)
                seen = [(await w.__anext__())]
                for i in range(1, 12):
                    await c.kv().put(p + str(i), str(i))
                    if i == 6:
                        C.kill(victim)
                async for e in w:
                    seen.append(e)
                    if e.args.get("key") == p + "11":
                        break
                w.cancel()
                await wc.close()
                C.start(victim)
                return [e.args["key"] for e in seen if e.args.get("key", "").startswith(p)], p

        keys, p = asyncio.run(run())
        self.assertEqual(keys, [p + str(i) for i in range(12)])


class TokenAndCompactionTest(unittest.TestCase):
    """A 1-node cluster with a token and a snapshot every 10 entries."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.c = Cluster(1, extra=["--token", "s3cret", "--snapshot-entries", "10"])
        cls.c.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.stop()

    def test_token_and_compacted_watch(self) -> None:
        with raftkit.Client(self.c.urls, token="wrong", timeout=5) as bad:
            with self.assertRaises(raftkit.UnauthorizedError) as e:
                bad.kv().put("a", "1")
            self.assertEqual(e.exception.status, 401)
        with raftkit.Client(self.c.urls, token="s3cret", timeout=15) as c:
            wait_until(lambda: c.kv().put("a", "0"), 15, "the node leads")
            for i in range(60):
                c.kv().put("a", str(i))
            c.snapshot("kv")
            with self.assertRaises(raftkit.CompactedError) as e:
                next(iter(c.watch("kv", from_index=1)))
            self.assertGreater(e.exception.first_index or 0, 1)
            # from first_index on, it streams
            e2 = next(iter(c.watch("kv", from_index=e.exception.first_index)))
            self.assertGreaterEqual(e2.index, e.exception.first_index)

            async def compacted_async() -> int:
                async with raftkit.AsyncClient(self.c.urls, token="s3cret") as ac:
                    try:
                        await ac.watch("kv", from_index=1).__anext__()
                    except raftkit.CompactedError as err:
                        return err.first_index or 0
                return 0

            self.assertGreater(asyncio.run(compacted_async()), 1)



class TlsTest(unittest.TestCase):
    """A 3-node cluster serving https with its own CA (scripts/make-test-ca.sh): the clients
    trust it through ca_file, and without it they refuse the nodes."""

    @classmethod
    def setUpClass(cls) -> None:
        if shutil.which("openssl") is None and os.geteuid() == 0:
            subprocess.run(["apt-get", "install", "-y", "-q", "openssl"], check=False, stdout=subprocess.DEVNULL)
        cls.ca_dir = tempfile.mkdtemp(prefix="raftkit-py-ca-")
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "make-test-ca.sh"), cls.ca_dir, "pytls", "1"], check=True, stdout=subprocess.DEVNULL)
        pem = lambda name: os.path.join(cls.ca_dir, name)  # noqa: E731
        tls = ["--tls-cert", pem("api.pem"), "--tls-key", pem("api-key.pem"), "--tls-ca", pem("ca.pem")]
        cls.ca = pem("ca.pem")
        cls.c = Cluster(3, extra=tls, ca_file=cls.ca)
        cls.c.start()
        cls.c.leader()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.stop()
        shutil.rmtree(cls.ca_dir, ignore_errors=True)

    def test_sync_and_async_over_https(self) -> None:
        with raftkit.Client(self.c.urls, ca_file=self.ca, timeout=15) as c:
            _, index = c.kv().put("tls", "on")
            self.assertGreater(index, 0)
            self.assertEqual(c.kv().get("tls", consistency="linearizable").result["value"], "on")
            w = c.watch("kv", from_index=index)
            self.assertEqual(next(iter(w)).index, index)
            w.cancel()

        async def async_round_trip() -> str:
            async with raftkit.AsyncClient(self.c.urls, ca_file=self.ca, timeout=15) as ac:
                await ac.kv().put("tls-async", "yes")
                aw = ac.watch("kv", from_index=1)
                self.assertGreaterEqual((await aw.__anext__()).index, 1)
                aw.cancel()
                return (await ac.kv().get("tls-async")).result["value"]

        self.assertEqual(asyncio.run(async_round_trip()), "yes")

    def test_without_the_ca_the_nodes_are_not_trusted(self) -> None:
        with raftkit.Client(self.c.urls, timeout=2, attempt_timeout=1) as c:
            with self.assertRaises(raftkit.RaftkitError):
                c.kv().put("tls", "untrusted")
        with self.assertRaises(raftkit.BadRequestError) as e:
            raftkit.Client(self.c.urls, ca_file=os.path.join(self.ca_dir, "missing.pem"))
        self.assertEqual(e.exception.field, "ca_file")

if __name__ == "__main__":
    unittest.main()
