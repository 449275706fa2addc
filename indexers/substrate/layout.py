"""Where each record of a block's System.Events lies, without decoding it (pure).

A Finney block holds ~100-180 event records and only a few of them are revenue (fees, stake
swap fees, burns); decoding every record into Python objects with bt-decode costs ~30 us a
record, most of the reader's CPU. The layout of a runtime's types (from the same metadata
V15 registry bt-decode uses) gives each record's byte length: a type of fixed size is
skipped in one step, a variable one (sequences, strings, compacts, variants of different
sizes) walked by its definition. The reader then decodes with bt-decode only the records it
needs, so the values always come from bt-decode; this module only says where records start
and end, and which pallet, event and phase each one is. A walk that does not end exactly at
the end of the bytes is an error (the metadata does not fit the block), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_PRIMITIVE_SIZE = {
    "bool": 1, "char": 4, "u8": 1, "u16": 2, "u32": 4, "u64": 8, "u128": 16, "u256": 32,
    "i8": 1, "i16": 2, "i32": 4, "i64": 8, "i128": 16, "i256": 32,
}


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


class EventsLayout:
    """Record spans of System.Events for one runtime's type registry (metadata V15 as JSON)."""

    def __init__(self, doc: dict[str, Any], events_type: int) -> None:
        self.types: dict[int, dict[str, Any]] = {
            int(t["id"]): t["type"]["def"] for t in doc["types"]["types"]
        }
        self._size: dict[int, int | None] = {}
        record = self.types[events_type]["sequence"]["type"]
        fields = {f["name"]: int(f["type"]) for f in self.types[record]["composite"]["fields"]}
        self.record_type = record
        self._phase = fields["phase"]
        self._event = fields["event"]
        self._topics = fields["topics"]
        phase_variants = self.types[self._phase]["variant"]["variants"]
        self._apply_extrinsic = next(
            int(v["index"]) for v in phase_variants if v["name"] == "ApplyExtrinsic"
        )
        # RuntimeEvent: pallet index -> (pallet name, its event enum type id)
        self._pallets: dict[int, tuple[str, int]] = {}
        for v in self.types[self._event]["variant"]["variants"]:
            (field,) = v["fields"]
            self._pallets[int(v["index"])] = (v["name"], int(field["type"]))
        # (pallet index, event index) -> (event name, the fields' types, their size if fixed)
        self._events: dict[tuple[int, int], tuple[str, list[int], int | None]] = {}
        for p, (_, ty) in self._pallets.items():
            for v in self.types[ty]["variant"].get("variants", []):
                fields = [int(f["type"]) for f in v.get("fields", [])]
                self._events[(p, int(v["index"]))] = (v["name"], fields, self._sum(fields))
        self._variants: dict[int, dict[int, list[int]]] = {}
        # a phase's size by its variant index, and the size of one topic (Vec<H256>)
        self._phase_size = {
            int(v["index"]): 1 + (self._sum([int(f["type"]) for f in v.get("fields", [])]) or 0)
            for v in self.types[self._phase]["variant"]["variants"]
        }
        if None in {self._sum([int(f["type"]) for f in v.get("fields", [])])
                    for v in self.types[self._phase]["variant"]["variants"]}:
            raise LayoutError("a Phase of variable size")
        topic = self.types[self._topics].get("sequence", {}).get("type")
        self._topic_size = self.size(int(topic)) if topic is not None else None
        if self._topic_size is None:
            raise LayoutError("topics are not a sequence of fixed-size hashes")

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

    def skip(self, ty: int, data: bytes, pos: int) -> int:
        """The position after a value of type `ty` at `pos`."""
        s = self.size(ty)
        if s is not None:
            return pos + s
        d = self.types[ty]
        kind, body = next(iter(d.items()))
        if kind == "composite":
            for f in body.get("fields", []):
                pos = self.skip(int(f["type"]), data, pos)
            return pos
        if kind == "variant":
            variants = self._variants.get(ty)
            if variants is None:
                variants = {int(v["index"]): [int(f["type"]) for f in v.get("fields", [])]
                            for v in body.get("variants", [])}
                self._variants[ty] = variants
            fields = variants.get(data[pos])
            if fields is None:
                raise LayoutError(f"type {ty}: no variant with index {data[pos]}")
            pos += 1
            for f in fields:
                pos = self.skip(f, data, pos)
            return pos
        if kind == "sequence":
            n, pos = _compact(data, pos)
            elem = int(body["type"])
            es = self.size(elem)
            if es is not None:
                return pos + n * es
            for _ in range(n):
                pos = self.skip(elem, data, pos)
            return pos
        if kind == "array":
            for _ in range(int(body["len"])):
                pos = self.skip(int(body["type"]), data, pos)
            return pos
        if kind == "tuple":
            for t in body:
                pos = self.skip(int(t), data, pos)
            return pos
        if kind == "compact":
            return _compact(data, pos)[1]
        if kind == "primitive" and body == "str":
            n, pos = _compact(data, pos)
            return pos + n
        if kind == "bitsequence":
            bits, pos = _compact(data, pos)
            store = self.size(int(body["bit_store_type"])) or 1
            return pos + -(-bits // (8 * store)) * store
        raise LayoutError(f"type {ty}: cannot size a {kind} {body!r}"[:200])

    # --- records -------------------------------------------------------------------------
    def spans(self, data: bytes) -> list[RecordSpan]:
        """Every record of the Vec<EventRecord> with its pallet, event, phase and bytes."""
        try:
            count, pos = _compact(data, 0)
            out = []
            for i in range(count):
                start = pos
                phase = data[pos]
                ext = None
                if phase == self._apply_extrinsic:
                    ext = int.from_bytes(data[pos + 1 : pos + 5], "little")
                pos += self._phase_size[phase]
                p, v = data[pos], data[pos + 1]
                event = self._events.get((p, v))
                if event is None:
                    raise LayoutError(f"record {i}: no event {v} of a pallet {p}")
                name, fields, size = event
                if size is not None:
                    pos += 2 + size
                else:
                    pos += 2
                    for f in fields:
                        pos = self.skip(f, data, pos)
                topics, pos = _compact(data, pos)
                pos += topics * self._topic_size
                out.append(RecordSpan(i, ext, self._pallets[p][0], name, start, pos))
        except IndexError as exc:
            raise LayoutError("the events end inside a record") from exc
        except KeyError as exc:
            raise LayoutError(f"a record with an unknown phase {exc}") from exc
        if pos != len(data):
            raise LayoutError(f"the records end at byte {pos} of {len(data)}")
        return out
