"""Declaring a state machine in Python.

.. code-block:: python

    @state_machine("counter", version=1)
    class Counter:
        def __init__(self):
            self.value = 0

        @command
        def add(self, amount: int, ctx: Context) -> dict:
            self.value += amount
            return {"value": self.value, "index": ctx.index}

        @query
        def get(self) -> dict:
            return {"value": self.value}

Arguments are keyword arguments whose type hints make the schema every client sees
(``str`` string, ``int`` integer, ``float`` number, ``bool`` boolean, ``dict`` object,
``list``/``List[X]`` array/``X[]``, ``Optional[X]`` nullable, a default makes it optional). A
parameter named ``ctx`` (or typed :class:`Context`) receives the entry's index, term and the
leader's time. Commands must be deterministic: no clocks, randomness or I/O; use ``ctx``.
Without ``@snapshot``/``@restore`` the snapshot is the instance's public attributes as JSON.
"""

from __future__ import annotations

import copy
import inspect
import json
import typing
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_OP_MARK = "__raftkit_op__"
_MACHINE_MARK = "__raftkit_machine__"


@dataclass(frozen=True)
class Context:
    """What a command may know besides its arguments: the same on every replica."""

    index: int
    term: int
    #: the leader's clock when it proposed the entry, in ms since the epoch (never decreases)
    leader_time: int


class DefinitionError(TypeError):
    """A state machine class that cannot be served (says which method and why)."""


@dataclass(frozen=True)
class Handler:
    kind: str
    name: str
    attr: str
    args: Dict[str, Dict[str, Any]]
    wants_ctx: bool


@dataclass(frozen=True)
class MachineSpec:
    name: str
    version: int
    commands: Dict[str, Handler]
    queries: Dict[str, Handler]
    snapshot: Optional[str]
    restore: Optional[str]

    def declaration(self) -> Dict[str, Any]:
        """What the handshake declares: name, version, commands and queries with their args."""
        return {
            "name": self.name,
            "version": self.version,
            "commands": [{"name": h.name, "args": h.args} for h in sorted(self.commands.values(), key=lambda h: h.name)],
            "queries": [{"name": h.name, "args": h.args} for h in sorted(self.queries.values(), key=lambda h: h.name)],
        }


def _mark(kind: str, fn: Any, name: Optional[str]) -> Any:
    if not callable(fn):
        raise DefinitionError(f"@{kind} decorates a method, got {fn!r}")
    setattr(fn, _OP_MARK, (kind, name or fn.__name__))
    return fn


def command(fn: Optional[F] = None, *, name: Optional[str] = None) -> Any:
    """Marks a method as a command (``@command`` or ``@command(name="...")``)."""
    if fn is None:
        return lambda f: _mark("command", f, name)
    return _mark("command", fn, name)


def query(fn: Optional[F] = None, *, name: Optional[str] = None) -> Any:
    """Marks a method as a read-only query."""
    if fn is None:
        return lambda f: _mark("query", f, name)
    return _mark("query", fn, name)


def snapshot(fn: F) -> F:
    """Marks the method that returns the state as a JSON value."""
    return typing.cast(F, _mark("snapshot", fn, None))


def restore(fn: F) -> F:
    """Marks the method that replaces the state with one ``@snapshot`` returned."""
    return typing.cast(F, _mark("restore", fn, None))


_SIMPLE = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array", tuple: "array", Any: "any"}


def _schema_type(hint: Any, where: str) -> Tuple[str, bool]:
    """(schema type, nullable) for a type hint."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        rest = [a for a in args if a is not type(None)]
        nullable = len(rest) < len(args)
        if len(rest) == 1:
            return _schema_type(rest[0], where)[0], nullable
        return "any", nullable
    if hint is None or hint is type(None):
        return "any", True
    if hint in _SIMPLE:
        return _SIMPLE[hint], False
    if origin in (list, tuple, typing.List):
        if args and args[0] in _SIMPLE and args[0] not in (Any, list, tuple, dict):
            return f"{_SIMPLE[args[0]]}[]", False
        return "array", False
    if origin in (dict, typing.Dict):
        return "object", False
    if hint is inspect.Parameter.empty:
        return "any", False
    raise DefinitionError(f"{where}: the type {hint!r} has no JSON form; use str, int, float, bool, dict, list, Optional[...] or Any")


def _handler(cls: type, attr: str, fn: Callable[..., Any], kind: str, name: str) -> Handler:
    where = f"{cls.__name__}.{attr}"
    try:
        hints = typing.get_type_hints(fn)
    except Exception as e:  # noqa: BLE001 - a hint that does not resolve
        raise DefinitionError(f"{where}: its type hints cannot be read ({e})") from None
    params = list(inspect.signature(fn).parameters.values())[1:]
    args: Dict[str, Dict[str, Any]] = {}
    wants_ctx = False
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DefinitionError(f"{where}: *{p.name} cannot be declared in a schema; name every argument")
        if p.kind is p.POSITIONAL_ONLY:
            raise DefinitionError(f"{where}: argument {p.name!r} is positional-only; arguments are passed by name")
        hint = hints.get(p.name, inspect.Parameter.empty)
        if p.name == "ctx" or hint is Context:
            if kind != "command":
                raise DefinitionError(f"{where}: only commands receive a Context")
            wants_ctx = True
            continue
        t, nullable = _schema_type(hint, f"{where} argument {p.name!r}")
        optional = p.default is not inspect.Parameter.empty
        args[p.name] = {"type": t, "optional": optional, "nullable": nullable or optional and p.default is None}
    return Handler(kind, name, attr, args, wants_ctx)


def state_machine(name: str, *, version: int = 1) -> Callable[[type], type]:
    """Declares a class as the state machine type ``name``; ``version`` (an integer >= 1) goes
    with the handshake: a node refuses a machine of another version than it was started with."""
    if not isinstance(name, str) or not name:
        raise DefinitionError(f"the state machine's name must be a non-empty string, got {name!r}")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DefinitionError(f"the state machine's version must be an integer >= 1, got {version!r}")

    def decorate(cls: type) -> type:
        commands: Dict[str, Handler] = {}
        queries: Dict[str, Handler] = {}
        hooks: Dict[str, Optional[str]] = {"snapshot": None, "restore": None}
        for klass in reversed(cls.__mro__):
            for attr, fn in vars(klass).items():
                mark = getattr(fn, _OP_MARK, None)
                if mark is None:
                    continue
                kind, op_name = mark
                if kind in hooks:
                    hooks[kind] = attr
                    continue
                h = _handler(cls, attr, fn, kind, op_name)
                table = commands if kind == "command" else queries
                other = queries if kind == "command" else commands
                if op_name in other:
                    raise DefinitionError(f"{cls.__name__}: {op_name!r} is declared both as a command and as a query")
                table[op_name] = h
        if (hooks["snapshot"] is None) != (hooks["restore"] is None):
            raise DefinitionError(f"{cls.__name__}: declare both @snapshot and @restore, or neither")
        setattr(cls, _MACHINE_MARK, MachineSpec(name, version, commands, queries, hooks["snapshot"], hooks["restore"]))
        return cls

    return decorate


def spec_of(obj: Any) -> MachineSpec:
    spec = getattr(type(obj), _MACHINE_MARK, None)
    if not isinstance(spec, MachineSpec):
        raise DefinitionError(f"{type(obj).__name__} is not a @state_machine class")
    return spec


def capture(obj: Any, spec: MachineSpec) -> Any:
    """The state as a JSON value (checked: it must survive a JSON round trip)."""
    if spec.snapshot is not None:
        state = getattr(obj, spec.snapshot)()
    else:
        state = {k: copy.deepcopy(v) for k, v in vars(obj).items() if not k.startswith("_")}
    return json.loads(json.dumps(state, allow_nan=False))


def apply_state(obj: Any, spec: MachineSpec, state: Any) -> None:
    if spec.restore is not None:
        getattr(obj, spec.restore)(copy.deepcopy(state))
        return
    for k in [k for k in vars(obj) if not k.startswith("_")]:
        delattr(obj, k)
    for k, v in (state or {}).items():
        setattr(obj, k, copy.deepcopy(v))

