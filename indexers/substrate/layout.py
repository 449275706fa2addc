"""Where each record of a block's System.Events lies, and the values of fixed-layout events
read straight from their bytes (pure).

A Finney block holds ~100-180 event records and only a few of them are revenue (fees, stake
swap fees, burns); decoding every record into Python objects with bt-decode costs ~30 us a
record, most of the reader's CPU. The layout of a runtime's types (from the same metadata
V15 registry bt-decode uses) gives each record's byte length: each type is compiled once into
a flat plan (fixed byte runs merged into one step; a compact, a sequence, a variant by its
index, a string, a bit sequence), so a record of a fixed-size event is skipped in one step and
one of a variable event (e.g. ExtrinsicSuccess, whose weight holds two compacts) by a short
loop over its plan. A walk that does not end exactly at the end of the bytes is an error (the
metadata does not fit the block), never a guess.

An event whose fields all have a fixed size and are unsigned integers (u8-u256, little-endian)
or 32-byte values ([u8; 32] newtypes: AccountId32, H256) is also read here
(`EventsLayout.fields_reader`): each field's byte offset and kind come from the metadata (its
names or positions too), never hard-coded, and one `struct` unpack gives them. Every other
event's values come from bt-decode (indexers.substrate.events).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

_PRIMITIVE_SIZE = {
    "bool": 1, "char": 4, "u8": 1, "u16": 2, "u32": 4, "u64": 8, "u128": 16, "u256": 32,
    "i8": 1, "i16": 2, "i32": 4, "i64": 8, "i128": 16, "i256": 32,
}
# struct codes of the unsigned integers struct reads itself (wider ones are read as bytes)
_UINT_CODE = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q"}

# The steps of a compiled plan: a tuple of (step, argument) pairs.
_FIXED = 0  # n bytes
_COMPACT = 1  # a compact integer
_SEQ = 2  # a compact count, then that many elements: (element size if fixed, element plan)
_VARIANT = 3  # an index byte, then its variant's plan: (type id, {index: plan})
_STR = 4  # a compact byte count, then the bytes
_BITS = 5  # a compact bit count, then the bits in whole store units: store size
_REPEAT = 6  # a fixed count of variable elements: (count, element plan)
_REF = 7  # the plan of a type still being compiled (a recursive type), looked up when walked
_FAIL = 8  # a type that cannot be sized: the message, raised only if a record has one

Plan = tuple[tuple[int, Any], ...]


class LayoutError(ValueError):
    """The bytes do not fit the runtime's types (cut, or another runtime's events)."""


@dataclass(frozen=True, slots=True)
class RecordSpan:
    index: int  # position in System.Events
    extrinsic_index: int | None  # ApplyExtrinsic(i), else None (initialization, finalization)
    pallet: str
    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FieldsReader:
    """The values of one fixed-layout event read from its bytes: `unpack(data, pos)` with pos
    the first byte of its fields; named fields give a dict, positional ones a tuple, as
    bt-decode does; 32-byte values are `bytes`, integers `int`."""

    names: tuple[str, ...] | None  # None: positional fields
    layout: struct.Struct
    wide: tuple[int, ...]  # positions of integers wider than 8 bytes (read as bytes)
    bytes32: tuple[int, ...]  # positions of the 32-byte values

    def unpack(self, data: bytes, pos: int) -> dict[str, Any] | tuple[Any, ...]:
        values = self.layout.unpack_from(data, pos)
        if self.wide:
            values = tuple(int.from_bytes(v, "little") if i in self.wide else v
                           for i, v in enumerate(values))
        return values if self.names is None else dict(zip(self.names, values, strict=True))


def _compact(data: bytes, pos: int) -> tuple[int, int]:
    b0 = data[pos]
    mode = b0 & 3
    if mode == 0:
        return b0 >> 2, pos + 1
    if mode == 1:
        return int.from_bytes(data[pos : pos + 2], "little") >> 2, pos + 2
    if mode == 2:
        return int.from_bytes(data[pos : pos + 4], "little") >> 2, pos + 4
    n = (b0 >> 2) + 4
    return int.from_bytes(data[pos + 1 : pos + 1 + n], "little"), pos + 1 + n


def _concat(plans: list[Plan]) -> Plan:
    """Plans one after another, adjacent fixed runs merged into one step."""
    out: list[tuple[int, Any]] = []
    for plan in plans:
        for step in plan:
            if step[0] == _FIXED and out and out[-1][0] == _FIXED:
                out[-1] = (_FIXED, out[-1][1] + step[1])
            elif step != (_FIXED, 0):
                out.append(step)
    return tuple(out)


class EventsLayout:
    """Record spans of System.Events for one runtime's type registry (metadata V15 as JSON)."""

    def __init__(self, doc: dict[str, Any], events_type: int) -> None:
        self.types: dict[int, dict[str, Any]] = {
            int(t["id"]): t["type"]["def"] for t in doc["types"]["types"]
        }
        self._size: dict[int, int | None] = {}
        self._plans: dict[int, Plan] = {}
        self._compiling: set[int] = set()
        record = self.types[events_type]["sequence"]["type"]
        fields = {f["name"]: int(f["type"]) for f in self.types[record]["composite"]["fields"]}
        self.record_type = record
        self._phase = fields["phase"]
        self._event = fields["event"]
        self._topics = fields["topics"]
        phase_variants = self.types[self._phase]["variant"]["variants"]
        self.apply_extrinsic = next(
            int(v["index"]) for v in phase_variants if v["name"] == "ApplyExtrinsic"
        )
        # the phases by index: their names, and their encoded sizes (0: no such phase)
        self.phase_names = {int(v["index"]): str(v["name"]) for v in phase_variants}
        self.phase_sizes = [0] * 256
        for v in phase_variants:
            size = self._sum([int(f["type"]) for f in v.get("fields", [])])
            if size is None:
                raise LayoutError("a Phase of variable size")
            self.phase_sizes[int(v["index"])] = 1 + size
        # RuntimeEvent: pallet index -> (pallet name, its event enum type id)
        self._pallets: dict[int, tuple[str, int]] = {}
        for v in self.types[self._event]["variant"]["variants"]:
            (field,) = v["fields"]
            self._pallets[int(v["index"])] = (v["name"], int(field["type"]))
        # the events by key (pallet index << 8 | event index): their pallet and name, their
        # fields, and in `sizes` the size of index bytes and fields when fixed, 0 when variable
        # (walked by `plans[key]`), -1 when there is no such event
        self.events: dict[int, tuple[str, str]] = {}
        self.keys: dict[tuple[str, str], int] = {}
        self._fields: dict[int, list[dict[str, Any]]] = {}
        self.sizes = [-1] * 65536
        self.plans: dict[int, Plan] = {}
        for p, (pallet, ty) in self._pallets.items():
            for v in self.types[ty]["variant"].get("variants", []):
                key = p << 8 | int(v["index"])
                self.events[key] = (pallet, str(v["name"]))
                self.keys[(pallet, str(v["name"]))] = key
                self._fields[key] = list(v.get("fields", []))
                types = [int(f["type"]) for f in self._fields[key]]
                size = self._sum(types)
                if size is None:
                    self.sizes[key] = 0
                    self.plans[key] = _concat([self.plan(t) for t in types])
                else:
                    self.sizes[key] = 2 + size
        topic = self.types[self._topics].get("sequence", {}).get("type")
        topic_size = self.size(int(topic)) if topic is not None else None
        if topic_size is None:
            raise LayoutError("topics are not a sequence of fixed-size hashes")
        self.topic_size = topic_size

    # --- sizes ---------------------------------------------------------------------------
    def size(self, ty: int) -> int | None:
        """The encoded size of a type if every value of it has the same size, else None."""
        if ty in self._size:
            return self._size[ty]
        self._size[ty] = None  # a recursive type is variable
        d = self.types[ty]
        kind, body = next(iter(d.items()))
        out: int | None = None
        if kind == "primitive":
            out = _PRIMITIVE_SIZE.get(body)
        elif kind == "composite":
            out = self._sum([int(f["type"]) for f in body.get("fields", [])])
        elif kind == "tuple":
            out = self._sum([int(t) for t in body])
        elif kind == "array":
            elem = self.size(int(body["type"]))
            out = None if elem is None else elem * int(body["len"])
        elif kind == "variant":
            sizes = {self._sum([int(f["type"]) for f in v.get("fields", [])])
                     for v in body.get("variants", [])}
            if len(sizes) == 1 and None not in sizes:
                (s,) = sizes
                out = None if s is None else 1 + s
        self._size[ty] = out
        return out

    def _sum(self, types: list[int]) -> int | None:
        total = 0
        for t in types:
            s = self.size(t)
            if s is None:
                return None
            total += s
        return total

    # --- plans ---------------------------------------------------------------------------
    def plan(self, ty: int) -> Plan:
        """The compiled walk of a type (module docstring), made once per type."""
        got = self._plans.get(ty)
        if got is not None:
            return got
        if ty in self._compiling:
            return ((_REF, ty),)
        s = self.size(ty)
        if s is not None:
            out: Plan = ((_FIXED, s),)
        else:
            self._compiling.add(ty)
            try:
                out = self._compile(ty)
            finally:
                self._compiling.discard(ty)
        self._plans[ty] = out
        return out

    def _compile(self, ty: int) -> Plan:
        kind, body = next(iter(self.types[ty].items()))
        if kind == "composite":
            return _concat([self.plan(int(f["type"])) for f in body.get("fields", [])])
        if kind == "tuple":
            return _concat([self.plan(int(t)) for t in body])
        if kind == "variant":
            return ((_VARIANT, (ty, {
                int(v["index"]): _concat([self.plan(int(f["type"])) for f in v.get("fields", [])])
                for v in body.get("variants", [])
            })),)
        if kind == "sequence":
            elem = int(body["type"])
            es = self.size(elem)
            return ((_SEQ, (es, None if es is not None else self.plan(elem))),)
        if kind == "array":  # of variable elements (a fixed array has a size)
            return ((_REPEAT, (int(body["len"]), self.plan(int(body["type"])))),)
        if kind == "compact":
            return ((_COMPACT, None),)
        if kind == "primitive" and body == "str":
            return ((_STR, None),)
        if kind == "bitsequence":
            return ((_BITS, self.size(int(body["bit_store_type"])) or 1),)
        return ((_FAIL, f"type {ty}: cannot size a {kind} {body!r}"[:200]),)

    def walk(self, plan: Plan, data: bytes, pos: int) -> int:
        """The position after a value walked by `plan` from `pos`."""
        for step, arg in plan:
            if step == _FIXED:
                pos += arg
            elif step == _COMPACT:
                mode = data[pos] & 3
                pos += 1 if mode == 0 else 2 if mode == 1 else 4 if mode == 2 else (
                    (data[pos] >> 2) + 5)
            elif step == _VARIANT:
                ty, variants = arg
                sub = variants.get(data[pos])
                if sub is None:
                    raise LayoutError(f"type {ty}: no variant with index {data[pos]}")
                pos = self.walk(sub, data, pos + 1)
            elif step == _SEQ:
                n, pos = _compact(data, pos)
                es, sub = arg
                if es is not None:
                    pos += n * es
                else:
                    for _ in range(n):
                        pos = self.walk(sub, data, pos)
            elif step == _STR:
                n, pos = _compact(data, pos)
                pos += n
            elif step == _BITS:
                bits, pos = _compact(data, pos)
                pos += -(-bits // (8 * arg)) * arg
            elif step == _REPEAT:
                n, sub = arg
                for _ in range(n):
                    pos = self.walk(sub, data, pos)
            elif step == _REF:
                pos = self.walk(self._plans[arg], data, pos)
            else:
                raise LayoutError(arg)
        return pos

    # --- records -------------------------------------------------------------------------
    def locate(
        self, data: bytes, keep: bytes | bytearray
    ) -> tuple[int, list[tuple[int, int, int, int]]]:
        """The number of records of the Vec<EventRecord>, and (index, key, start, end) of those
        whose event key has a nonzero `keep[key]` (a 65,536-byte table)."""
        sizes, plans, phase_sizes, topic_size = (
            self.sizes, self.plans, self.phase_sizes, self.topic_size)
        walk = self.walk
        out: list[tuple[int, int, int, int]] = []
        try:
            count, pos = _compact(data, 0)
            for i in range(count):
                start = pos
                ps = phase_sizes[data[pos]]
                if not ps:
                    raise LayoutError(f"record {i}: a phase with the unknown index {data[pos]}")
                pos += ps
                key = data[pos] << 8 | data[pos + 1]
                s = sizes[key]
                if s > 0:
                    pos += s
                elif s == 0:
                    pos = walk(plans[key], data, pos + 2)
                else:
                    raise LayoutError(f"record {i}: no event {data[pos + 1]} of a pallet "
                                      f"{data[pos]}")
                if data[pos] == 0:  # no topics (nearly always)
                    pos += 1
                else:
                    n, pos = _compact(data, pos)
                    pos += n * topic_size
                if keep[key]:
                    out.append((i, key, start, pos))
        except IndexError as exc:
            raise LayoutError("the events end inside a record") from exc
        if pos != len(data):
            raise LayoutError(f"the records end at byte {pos} of {len(data)}")
        return count, out

    def extrinsic_of(self, data: bytes, start: int) -> int | None:
        """The extrinsic index of the record starting at `start` (ApplyExtrinsic), else None."""
        if data[start] == self.apply_extrinsic:
            return int.from_bytes(data[start + 1 : start + 5], "little")
        return None

    def spans(self, data: bytes) -> list[RecordSpan]:
        """Every record of the Vec<EventRecord> with its pallet, event, phase and bytes."""
        _, found = self.locate(data, ALL_EVENTS)
        return [RecordSpan(i, self.extrinsic_of(data, start), *self.events[key], start, end)
                for i, key, start, end in found]

    def keep_table(self, events: set[tuple[str, str]] | frozenset[tuple[str, str]],
                   mark: int = 1, table: bytearray | None = None) -> bytearray:
        """A `locate` table marking these (pallet, event) names with `mark` (names this
        runtime does not have are left out)."""
        out = table if table is not None else bytearray(65536)
        for name in events:
            key = self.keys.get(name)
            if key is not None:
                out[key] = mark
        return out

    # --- values --------------------------------------------------------------------------
    def fields_reader(self, key: int) -> FieldsReader | None:
        """The direct reader of an event's values (module docstring), or None when one of its
        fields is not a fixed-size unsigned integer or 32-byte value (bt-decode reads it)."""
        fields = self._fields[key]
        codes: list[str] = []
        wide: list[int] = []
        b32: list[int] = []
        for i, f in enumerate(fields):
            d = self.types[int(f["type"])]
            kind, body = next(iter(d.items()))
            if kind == "primitive" and body in _UINT_CODE:
                codes.append(_UINT_CODE[body])
            elif kind == "primitive" and body in ("u128", "u256"):
                codes.append(f"{_PRIMITIVE_SIZE[body]}s")
                wide.append(i)
            elif kind == "composite" and self._is_32_bytes(body):
                codes.append("32s")
                b32.append(i)
            else:
                return None
        names = [f.get("name") for f in fields]
        if any(names) and not all(names):
            return None
        return FieldsReader(tuple(names) if all(names) and names else None,
                            struct.Struct("<" + "".join(codes)), tuple(wide), tuple(b32))

    def _is_32_bytes(self, body: dict[str, Any]) -> bool:
        inner = body.get("fields", [])
        if len(inner) != 1:
            return False
        d = self.types[int(inner[0]["type"])]
        arr = d.get("array")
        return (arr is not None and int(arr["len"]) == 32
                and self.types[int(arr["type"])].get("primitive") == "u8")


ALL_EVENTS = b"\x01" * 65536  # a `locate` table keeping every record
