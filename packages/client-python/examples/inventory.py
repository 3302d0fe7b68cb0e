"""A replicated inventory written in Python: run one of these next to each raftkit node.

    node packages/kv-demo/bin/raftkit-kv.js --remote-machine inventory@1 --id 1 ...   (each node)
    python examples/inventory.py http://127.0.0.1:7001                                (each node's own)

Then, from any client: ``client.group("inventory").add(sku="apple", qty=3)``.
"""

import hashlib
import json
import logging
import sys
from typing import Dict

from raftkit import BadRequestError, Context, command, query, serve_state_machine, state_machine


@state_machine("inventory", version=1)
class Inventory:
    def __init__(self) -> None:
        self.stock: Dict[str, int] = {}
        # how many commands were applied, and a digest over them in order: equal on every
        # replica iff they applied the same entries, each once
        self.applied = 0
        self.digest = ""

    def _record(self, ctx: Context, what: object) -> None:
        self.applied += 1
        self.digest = hashlib.sha256(f"{self.digest}|{ctx.index}|{json.dumps(what, sort_keys=True)}".encode()).hexdigest()

    @command
    def add(self, sku: str, qty: int, ctx: Context) -> dict:
        if qty < 1:
            raise BadRequestError("qty must be at least 1", field="qty")
        self.stock[sku] = self.stock.get(sku, 0) + qty
        self._record(ctx, ["add", sku, qty])
        return {"sku": sku, "stock": self.stock[sku]}

    @command
    def remove(self, sku: str, qty: int, ctx: Context) -> dict:
        have = self.stock.get(sku, 0)
        if qty > have:
            # refused the same way on every replica: the entry changes nothing
            raise BadRequestError(f"only {have} of {sku} in stock", field="qty")
        self.stock[sku] = have - qty
        self._record(ctx, ["remove", sku, qty])
        return {"sku": sku, "stock": self.stock[sku]}

    @query
    def stock_of(self, sku: str) -> dict:
        return {"sku": sku, "stock": self.stock.get(sku, 0)}

    @query
    def summary(self) -> dict:
        return {"skus": len(self.stock), "units": sum(self.stock.values()), "applied": self.applied, "digest": self.digest}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    serve_state_machine(Inventory(), sys.argv[1], token=sys.argv[2] if len(sys.argv) > 2 else None)
