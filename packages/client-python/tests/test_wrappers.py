"""The SQL and metadata wrappers against 1-node raftkit-sql and raftkit-meta clusters."""

from __future__ import annotations

import asyncio
import threading
import unittest

import raftkit
from cluster import META_BIN, SQL_BIN, Cluster, wait_until


class SqlWrapperTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = Cluster(1, group="sql", bin=SQL_BIN)
        cls.c.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.stop()

    def test_execute_and_query_sync_and_async(self) -> None:
        with raftkit.Client(self.c.urls, timeout=15) as client:
            sql = client.sql()
            wait_until(lambda: sql.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)"), 20, "the SQL node leads")
            r = sql.execute([["INSERT INTO t(name) VALUES(?)", "ann"], {"sql": "INSERT INTO t(name) VALUES(:n)", "params": {"n": "bob"}}], transaction=True)
            self.assertEqual([x["lastInsertId"] for x in r.result], [1, 2])
            self.assertGreater(r.index, 0)
            q = sql.query("SELECT name FROM t WHERE id = ?", 2, consistency="linearizable")
            self.assertEqual(q.result[0]["rows"], [["bob"]])
            self.assertEqual(sql.query(["SELECT count(*) FROM t"]).result[0]["rows"], [[2]])
            bad = sql.execute("INSERT INTO nope VALUES(1)")
            self.assertIn("no such table", bad.result[0]["error"])
            with self.assertRaises(raftkit.BadRequestError):
                sql.execute([])
            self.assertEqual(sql.checksum().result, client.query("sql", "checksum", {}, consistency="local").result)

        async def run() -> list:
            async with raftkit.AsyncClient(self.c.urls) as ac:
                await ac.sql().execute("INSERT INTO t(name) VALUES(?)", "cy")
                return (await ac.sql().query("SELECT name FROM t ORDER BY id")).result[0]["rows"]

        self.assertEqual(asyncio.run(run()), [["ann"], ["bob"], ["cy"]])


class MetaWrapperTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.c = Cluster(1, extra=["--grpc-listen", "127.0.0.1:0"], group="meta", bin=META_BIN)
        cls.c.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.c.stop()

    def test_put_get_range_txn_lease_watch(self) -> None:
        with raftkit.Client(self.c.urls, timeout=15) as client:
            meta = client.meta()
            rev = wait_until(lambda: meta.put("/config/a", "1"), 20, "the meta node leads")
            self.assertGreater(rev, 0)
            self.assertEqual(meta.get("/config/a"), "1")
            self.assertIsNone(meta.get("/config/none"))
            meta.put("/config/b", b"\xff\x00")
            r = meta.range("/config/", prefix=True)
            self.assertEqual([kv["key"] for kv in r["kvs"]], ["/config/a", "/config/b"])
            self.assertEqual(r["kvs"][1]["value"], b"\xff\x00")
            self.assertEqual(r["count"], 2)
            t = meta.txn([meta.compare("/config/a", "value", "=", "1")], [meta.op_put("/config/a", "2")], [meta.op_get("/config/a")])
            self.assertTrue(t["succeeded"])
            t = meta.txn([meta.compare("/config/a", "value", "=", "1")], [meta.op_put("/config/a", "3")], [meta.op_get("/config/a")])
            self.assertFalse(t["succeeded"])
            self.assertEqual(t["responses"][0]["range"]["kvs"][0]["value"], "2")
            lease = meta.lease(30)
            self.assertGreater(lease, 0)
            meta.put("/session", "x", lease=lease)
            self.assertGreater(meta.lease_keep_alive(lease), 0)
            self.assertEqual(meta.lease_ttl(lease, keys=True)["keys"], ["/session"])
            meta.lease_revoke(lease)
            self.assertIsNone(meta.get("/session"))
            with self.assertRaises(raftkit.RaftkitError):
                meta.lease_revoke(lease)  # etcd: requested lease not found
            events: list = []
            w = meta.watch("/config/", prefix=True)
            t0 = threading.Thread(target=lambda: events.extend([next(iter(w)), next(iter(w))]))
            t0.start()
            wait_until(lambda: (meta.put("/config/c", "9"), len(events) > 0)[1], 10, "the watch sees a put", interval=0.3)
            self.assertEqual(meta.delete("/config/c"), 1)
            t0.join(10)
            w.cancel()
            self.assertEqual(events[0]["kv"]["key"], "/config/c")
            self.assertIn(events[-1]["type"], ("PUT", "DELETE"))

        async def run() -> object:
            async with raftkit.AsyncClient(self.c.urls) as ac:
                m = ac.meta()
                await m.put("/async", "yes")
                w = m.watch("/async", start_revision=1)
                first = await w.__anext__()
                w.cancel()
                return (await m.get("/async"), first["kv"]["value"])

        self.assertEqual(asyncio.run(run()), ("yes", "yes"))


if __name__ == "__main__":
    unittest.main()
