"""A Python state machine (examples/inventory.py) on a live 3-node cluster, one Python process
per node: the handshake and its refusals, the schema for every client, bad input, and the same
state on every node after kills of a Python process, of a node, a stopped machine and a
snapshot. Needs the websockets package (the TypeScript runner installs it when missing)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request
import uuid
from typing import Dict, List

import raftkit
from raftkit import Context, command, query, state_machine
from raftkit.serve import MachineRefusedError, serve_state_machine_async
from cluster import ROOT, Cluster, start_python, wait_until

EXAMPLE = os.path.join(ROOT, "packages", "client-python", "examples", "inventory.py")
sys.path.insert(0, os.path.dirname(EXAMPLE))
from inventory import Inventory  # noqa: E402

C: Cluster
PY: Dict[int, object] = {}
APPLIED = 0  # commands acknowledged so far (each applied exactly once on every replica)


def start_machine(i: int) -> None:
    PY[i] = start_python(EXAMPLE, C.url(i), log=os.path.join(C.root, f"py{i}.log"))


def stop_machine(i: int) -> None:
    p = PY.pop(i, None)
    if p is not None:
        p.kill()  # type: ignore[attr-defined]
        p.wait()  # type: ignore[attr-defined]


def machine(i: int) -> dict:
    g = C.group_status(i)
    return g["machine"] if g else {}


def setUpModule() -> None:
    global C
    C = Cluster(3, extra=["--remote-machine", "inventory@1", "--machine-timeout-ms", "1000"], group="inventory")
    C.start()
    C.leader()
    for i in C.ids:
        start_machine(i)
    wait_until(lambda: all(machine(i).get("state") == "connected" for i in C.ids), 20, "every machine connects")


def tearDownModule() -> None:
    for i in list(PY):
        stop_machine(i)
    C.stop()


def add(client: raftkit.Client, qty: int = 1, **kw: object) -> raftkit.Response:
    global APPLIED
    r = client.group("inventory").add(sku=f"s{uuid.uuid4().hex[:8]}", qty=qty, **kw)
    APPLIED += 1
    return r


def summaries(ids: List[int]) -> List[dict]:
    out = []
    for i in ids:
        with raftkit.Client([C.url(i)], timeout=2) as c:
            out.append(c.query("inventory", "summary", consistency="local").result)
    return out


def assert_same_state(ids: List[int] = [1, 2, 3]) -> None:
    def same() -> bool:
        s = summaries(ids)
        return all(x == s[0] for x in s) and s[0]["applied"] == APPLIED

    wait_until(same, 20, f"identical state with {APPLIED} commands on nodes {ids}", interval=0.2)


def raw(i: int, method: str, path: str, body: object = None, headers: Dict[str, str] = {}) -> "tuple[int, dict]":
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(C.url(i) + path, data=data, method=method, headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class MachineTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = raftkit.Client(C.urls, timeout=20)
        self.inv = self.client.group("inventory")

    def tearDown(self) -> None:
        self.client.close()

    def test_1_commands_queries_schema_and_bad_input(self) -> None:
        status, schema = raw(1, "GET", "/v1/groups/inventory/schema")
        self.assertEqual(status, 200)
        self.assertEqual([c["name"] for c in schema["commands"]], ["add", "remove"])
        self.assertEqual(schema["commands"][0]["args"]["qty"], {"type": "integer", "optional": False, "nullable": False})
        self.assertEqual([q["name"] for q in schema["queries"]], ["stock_of", "summary"])
        r = add(self.client, 3)
        self.assertEqual(r.result["stock"], 3)
        sku = r.result["sku"]
        self.assertEqual(self.inv.stock_of(sku=sku, consistency="linearizable").result, {"sku": sku, "stock": 3})
        self.assertEqual(self.inv.remove(sku=sku, qty=2).result["stock"], 1)
        global APPLIED
        APPLIED += 1
        with self.assertRaises(raftkit.BadRequestError) as e:
            self.inv.remove(sku=sku, qty=5)  # refused by the Python handler, the same on every node
        self.assertEqual((e.exception.field, e.exception.status), ("qty", 400))
        # the node checks args against the declaration before proposing (any client, e.g. curl)
        self.assertEqual(raw(2, "POST", "/v1/groups/inventory/commands/add", {"sku": "a", "qty": "x"})[1]["field"], "qty")
        self.assertEqual(raw(2, "POST", "/v1/groups/inventory/commands/add", {"sku": "a", "qty": 1, "zzz": 1})[1]["field"], "zzz")
        self.assertEqual(raw(2, "POST", "/v1/groups/inventory/commands/nope", {})[0], 404)
        self.assertEqual(raw(3, "POST", "/v1/groups/inventory/queries/summary?consistency=lease", {})[0], 200)
        with self.assertRaises(raftkit.BadRequestError):
            self.inv.add(sku="a", qty=True)  # refused by the Python client before sending
        # entries carry the context: the command's own log index
        self.assertEqual(self.inv.add(sku="ctx", qty=1).index, self.inv.stock_of(sku="ctx").index)
        APPLIED += 1
        # the TypeScript SDK calls the Python machine like any other group
        script = (
            f"import {{ RaftClient }} from {json.dumps(os.path.join(ROOT, 'packages/client/dist/src/index.js'))};"
            f"const c = new RaftClient({{ endpoints: {json.dumps(C.urls)} }});"
            "const r = await c.group('inventory').command('add', { sku: 'from-ts', qty: 4 });"
            "const q = await c.group('inventory').query('stock_of', { sku: 'from-ts' });"
            "console.log(JSON.stringify([r.result, q.result])); c.close();"
        )
        out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout), [{"sku": "from-ts", "stock": 4}, {"sku": "from-ts", "stock": 4}])
        APPLIED += 1
        assert_same_state()

    def test_2_python_process_killed_and_restarted(self) -> None:
        victim = next(i for i in C.ids if i != C.leader())
        stop_machine(victim)
        wait_until(lambda: machine(victim)["state"] == "waiting", 10, "the node sees its machine gone")
        for _ in range(10):
            add(self.client)
        wait_until(lambda: machine(victim)["queued"] >= 10, 10, "entries queue for the absent machine")
        assert_same_state([i for i in C.ids if i != victim])
        start_machine(victim)
        assert_same_state()
        self.assertEqual(machine(victim)["queued"], 0)

    def test_3_leader_machine_away_refuses_commands_with_503(self) -> None:
        leader = C.leader()
        stop_machine(leader)
        wait_until(lambda: machine(leader)["state"] == "waiting", 10, "the leader sees its machine gone")
        status, body = raw(leader, "POST", "/v1/groups/inventory/commands/add", {"sku": "x", "qty": 1}, {"x-raft-no-forward": "1"})
        self.assertEqual((status, body["error"]), (503, "unavailable"))
        self.assertIn("not connected", body["message"])
        with raftkit.Client([C.url(leader)], timeout=1) as c:
            with self.assertRaises(raftkit.DeadlineExceededError) as e:
                c.group("inventory").add(sku="y", qty=1)
            self.assertEqual(e.exception.details["lastCode"], "unavailable")
        start_machine(leader)
        wait_until(lambda: machine(leader)["state"] == "connected", 10, "the machine is back")
        add(self.client)
        assert_same_state()

    def test_4_node_killed_and_restarted(self) -> None:
        leader = C.leader()
        C.kill(leader)
        for _ in range(5):
            add(self.client)  # retried to the new leader
        assert_same_state([i for i in C.ids if i != leader])
        C.start(leader)
        # its machine process kept running and reconnects; the node replays its log to it
        assert_same_state()
        wait_until(lambda: machine(leader)["state"] == "connected", 20, "the machine reconnects to the restarted node")

    def test_5_a_machine_that_stops_answering_is_marked_failed(self) -> None:
        victim = next(i for i in C.ids if i != C.leader())
        p = PY[victim]
        p.send_signal(signal.SIGSTOP)  # type: ignore[attr-defined]
        try:
            add(self.client)
            wait_until(lambda: machine(victim)["state"] == "failed", 10, "the stopped machine is marked failed")
            self.assertIn("did not answer", machine(victim)["message"])
            with raftkit.Client([C.url(victim)]) as c:
                text = c.metrics(C.url(victim))
            self.assertRegex(text, r'raftkit_remote_machine_failures_total\{group="inventory"\} [1-9]')
            self.assertRegex(text, r'raftkit_remote_machine_up\{group="inventory",state="failed"\} 0')
            add(self.client)
        finally:
            p.send_signal(signal.SIGCONT)  # type: ignore[attr-defined]
        wait_until(lambda: machine(victim)["state"] == "connected", 20, "the machine reconnects")
        assert_same_state()

    def test_6_restart_from_a_snapshot_with_a_fresh_machine(self) -> None:
        victim = next(i for i in C.ids if i != C.leader())
        for _ in range(5):
            add(self.client)
        assert_same_state()
        self.assertGreater(self.client.snapshot("inventory", C.url(victim))["index"], 0)
        add(self.client)
        C.kill(victim)
        stop_machine(victim)
        add(self.client)
        C.start(victim)
        start_machine(victim)  # a new process: state from the snapshot's checkpoint and tail, then the log
        assert_same_state()

    def test_7_handshake_refusals(self) -> None:
        @state_machine("inventory", version=2)
        class Newer(Inventory):
            pass

        @state_machine("counter")
        class Counter:
            @command
            def add(self, amount: int, ctx: Context) -> int:
                return amount

        @state_machine("inventory", version=1)
        class Changed:
            @command
            def add(self, sku: str, qty: int) -> dict:
                return {}

            @query
            def summary(self) -> dict:
                return {}

        def refused(obj: object, group: str = "inventory") -> MachineRefusedError:
            with self.assertRaises(MachineRefusedError) as e:
                asyncio.run(asyncio.wait_for(serve_state_machine_async(obj, C.url(1), group, reconnect=False), 10))
            return e.exception

        self.assertIn("version 1", str(refused(Newer())))
        self.assertIn('runs state machine "inventory", not "counter"', str(refused(Counter())))
        changed = refused(Changed())
        self.assertIn("other commands or queries", str(changed))
        self.assertEqual(changed.code, "bad_request")
        self.assertEqual(refused(Inventory()).code, "conflict", "one machine per group and node")
        self.assertEqual(refused(Inventory(), "nope").status, 404)
        self.assertEqual(machine(1)["state"], "connected", "the connected machine is untouched")
        assert_same_state()

    def test_8_a_group_created_at_runtime_served_by_async_machines(self) -> None:
        @state_machine("inventory", version=1)
        class AsyncInventory(Inventory):
            @command
            async def add(self, sku: str, qty: int, ctx: Context) -> dict:
                await asyncio.sleep(0)
                return Inventory.add(self, sku=sku, qty=qty, ctx=ctx)

        stop = asyncio.Event()
        loop = asyncio.new_event_loop()
        machines = [AsyncInventory() for _ in C.ids]

        async def serve_all() -> None:
            # started before the group exists: each waits for it to reach its node
            await asyncio.gather(*(serve_state_machine_async(m, C.url(i), "inv2", stop=stop) for m, i in zip(machines, C.ids)))

        thread = __import__("threading").Thread(target=lambda: loop.run_until_complete(serve_all()))
        thread.start()
        try:
            members = [{"id": i, "address": f"127.0.0.1:{C.ports[i]}"} for i in C.ids]
            created = self.client.create_group("inv2", "inventory", members, node=C.url(1))
            self.assertEqual(created["type"], "inventory")
            g = self.client.group("inv2")
            wait_until(lambda: g.schema(refresh=True), 20, "inv2 has a leader and a machine")
            results = [wait_until(lambda: g.add(sku="z", qty=2), 20, "a command on inv2")]
            results += [g.add(sku="z", qty=1) for _ in range(4)]
            self.assertEqual([r.result["stock"] for r in results], [2, 3, 4, 5, 6])
            wait_until(lambda: all(m.stock.get("z") == 6 and m.applied == 5 for m in machines), 10, "every async machine applied each entry once")
            self.assertEqual(len({m.digest for m in machines}), 1)
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()


if __name__ == "__main__":
    unittest.main()
