"""A group's schema (``GET /v1/groups/{group}/schema``, docs/api.md section 2.8) and the check
of arguments against it, done before any request so that a bad call names its field at once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from .errors import BadRequestError, BadResponseError, UnknownCommandError, UnknownQueryError


@dataclass(frozen=True)
class FieldSchema:
    name: str
    type: str
    optional: bool
    nullable: bool


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # "command" or "query"
    args: Dict[str, FieldSchema]

    def check(self, args: Mapping[str, Any]) -> None:
        """Raises BadRequestError naming the first bad field (unknown fields first, as the server does)."""
        for key in args:
            if key not in self.args:
                known = ", ".join(sorted(self.args)) or "none"
                raise BadRequestError(f"{self.kind} {self.name!r} has no argument {key!r} (arguments: {known})", field=key)
        for f in self.args.values():
            if f.name not in args:
                if not f.optional:
                    raise BadRequestError(f"{self.kind} {self.name!r} needs the argument {f.name!r} ({f.type})", field=f.name)
                continue
            value = args[f.name]
            if value is None:
                if not (f.nullable or f.optional):
                    raise BadRequestError(f"argument {f.name!r} of {self.kind} {self.name!r} must not be None", field=f.name)
                continue
            problem = type_problem(f.type, value)
            if problem:
                raise BadRequestError(f"argument {f.name!r} of {self.kind} {self.name!r} {problem}", field=f.name)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def type_problem(t: str, v: Any) -> Optional[str]:
    """Why ``v`` is not of schema type ``t`` (None when it is)."""
    if t.endswith("[]"):
        if not isinstance(v, (list, tuple)):
            return f"must be a list of {t[:-2]}, got {type(v).__name__}"
        for i, item in enumerate(v):
            p = type_problem(t[:-2], item)
            if p:
                return f"item {i} {p}"
        return None
    ok = {
        "string": lambda: isinstance(v, str),
        "date": lambda: isinstance(v, str),
        "number": lambda: _is_number(v),
        "integer": lambda: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda: isinstance(v, bool),
        "object": lambda: isinstance(v, dict),
        "array": lambda: isinstance(v, (list, tuple)),
    }.get(t)
    if ok is None or ok():
        return None
    return f"must be {'an' if t[0] in 'aeiou' else 'a'} {t}, got {type(v).__name__} {v!r:.40}"


class GroupSchema:
    """The commands and queries of a group, by name."""

    def __init__(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("commands"), list) or not isinstance(body.get("queries"), list):
            raise BadResponseError("the schema answer lacks commands and queries")
        self.group: str = str(body.get("group", ""))
        self.type: str = str(body.get("type", ""))
        self.commands: Dict[str, Operation] = {o.name: o for o in map(_operation, body["commands"])}
        self.queries: Dict[str, Operation] = {o.name: o for o in map(_operation, body["queries"])}
        self.raw = body

    def find(self, name: str) -> Optional[Operation]:
        return self.commands.get(name) or self.queries.get(name)

    def names(self) -> List[str]:
        return sorted({*self.commands, *self.queries})

    def require(self, name: str, kind: Optional[str] = None) -> Operation:
        op = self.commands.get(name) if kind == "command" else self.queries.get(name) if kind == "query" else self.find(name)
        if op is None:
            cls = UnknownQueryError if kind == "query" else UnknownCommandError
            what = kind or "command or query"
            raise cls(f"group {self.group!r} (type {self.type!r}) has no {what} {name!r} (it has: {', '.join(self.names()) or 'nothing'})", status=None)
        return op


def _operation(o: Any) -> Operation:
    if not isinstance(o, dict) or not isinstance(o.get("name"), str):
        raise BadResponseError(f"a schema operation is malformed: {o!r:.80}")
    raw_args = o.get("args") if isinstance(o.get("args"), dict) else {}
    fields = {
        k: FieldSchema(k, str(v.get("type", "any")), bool(v.get("optional", False)), bool(v.get("nullable", False)))
        for k, v in raw_args.items()
        if isinstance(v, dict)
    }
    return Operation(o["name"], "query" if o.get("kind") == "query" else "command", fields)


def merge_args(op_kind: str, name: str, args: Any, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """``op(key=...)``, ``op({"key": ...})`` or both: one dict of arguments."""
    if args is None:
        merged: Dict[str, Any] = {}
    elif isinstance(args, Mapping):
        merged = dict(args)
    else:
        raise BadRequestError(f"{op_kind} {name!r} takes keyword arguments or one dict, got {type(args).__name__}", field="args")
    for k, v in kwargs.items():
        if k in merged:
            raise BadRequestError(f"argument {k!r} of {op_kind} {name!r} is given twice", field=k)
        merged[k] = v
    return merged
