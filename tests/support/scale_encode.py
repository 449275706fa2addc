"""SCALE encoding driven by a runtime's type registry (test support: the Subtensor generator).

The generator writes System.Events in the exact shapes of the real spec-393 metadata: every
value is encoded by walking the registry's type definitions (composite, variant, sequence,
array, tuple, primitive, compact), so a field the metadata does not have cannot be written.
Values: a composite with named fields is a dict, with unnamed fields a tuple (a single
unnamed field may be given bare: anything but a 1-tuple is taken as that field); a variant is
(name, fields) with fields a dict, a tuple or None; `[u8; N]` arrays and `Vec<u8>` take bytes.

`without_last_field` derives an older runtime's metadata from a newer one: one event variant
loses its last field (e.g. StakeAdded before spec 257 had no fee), edited in the metadata bytes
themselves so the reader decodes the older blocks with exactly what the server serves.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import bt_decode

from chains.substrate import compact_decode, compact_encode

_UINTS = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "u128": 16, "u256": 32}
_INTS = {"i8": 1, "i16": 2, "i32": 4, "i64": 8, "i128": 16}


class Registry:
    """The types of one runtime's metadata V15, by id, and the id of System.Events."""

    def __init__(self, metadata_option: bytes) -> None:
        md = bt_decode.MetadataV15.decode_from_metadata_option(metadata_option)
        doc = json.loads(md.to_json())
        self.types: dict[int, dict[str, Any]] = {t["id"]: t["type"] for t in doc["types"]["types"]}
        self.pallets = {p["name"]: p for p in doc["pallets"]}
        system = self.pallets["System"]["storage"]["entries"]
        self.events_type = next(int(e["ty"]["Plain"]) for e in system if e["name"] == "Events")

    def variant(self, type_id: int, name: str) -> dict[str, Any]:
        for v in self.types[type_id]["def"]["variant"]["variants"]:
            if v["name"] == name:
                return v
        raise KeyError(f"type {type_id} has no variant {name}")

    def pallet_event_type(self, pallet: str) -> int:
        return int(self.pallets[pallet]["event"]["ty"])

    def without_last_field(self, pallet: str, event: str) -> Registry:
        other = copy.copy(self)
        other.types = copy.deepcopy(self.types)
        v = other.variant(other.pallet_event_type(pallet), event)
        v["fields"] = v["fields"][:-1]
        return other

    # --- encoding ------------------------------------------------------------------------
    def encode(self, type_id: int, value: Any) -> bytes:
        d = self.types[type_id]["def"]
        kind, body = next(iter(d.items()))
        if kind == "composite":
            return self._fields(body.get("fields", []), value)
        if kind == "variant":
            name, fields = value
            for v in body.get("variants", []):
                if v["name"] == name:
                    return bytes([v["index"]]) + self._fields(v.get("fields", []), fields)
            raise KeyError(f"type {type_id} has no variant {name!r}")
        if kind == "sequence":
            if isinstance(value, bytes | bytearray):
                return compact_encode(len(value)) + bytes(value)
            return compact_encode(len(value)) + b"".join(self.encode(body["type"], x)
                                                         for x in value)
        if kind == "array":
            if isinstance(value, bytes | bytearray):
                if len(value) != body["len"]:
                    raise ValueError(f"array of {body['len']} bytes, got {len(value)}")
                return bytes(value)
            return b"".join(self.encode(body["type"], x) for x in value)
        if kind == "tuple":
            return b"".join(self.encode(t, x) for t, x in zip(body, value, strict=True))
        if kind == "primitive":
            return _primitive(body, value)
        if kind == "compact":
            return compact_encode(int(value))
        raise NotImplementedError(f"type {type_id}: {kind}")

    def _fields(self, fields: list[dict[str, Any]], value: Any) -> bytes:
        if not fields:
            return b""
        if all(f.get("name") for f in fields):
            if set(value) != {f["name"] for f in fields}:
                raise ValueError(f"fields {[f['name'] for f in fields]}, got {sorted(value)}")
            return b"".join(self.encode(f["type"], value[f["name"]]) for f in fields)
        if len(fields) == 1 and not (isinstance(value, tuple) and len(value) == 1):
            value = (value,)
        if len(value) != len(fields):
            raise ValueError(f"{len(fields)} fields, got {len(value)}: {value!r}"[:200])
        return b"".join(self.encode(f["type"], x) for f, x in zip(fields, value, strict=True))


def _primitive(name: str, value: Any) -> bytes:
    if name == "bool":
        return b"\x01" if value else b"\x00"
    if name in _UINTS:
        return int(value).to_bytes(_UINTS[name], "little")
    if name in _INTS:
        return int(value).to_bytes(_INTS[name], "little", signed=True)
    if name == "str":
        raw = str(value).encode()
        return compact_encode(len(raw)) + raw
    raise NotImplementedError(name)


# --- metadata bytes surgery ------------------------------------------------------------------
def _skip_string(b: bytes, p: int) -> int:
    n, p = compact_decode(b, p)
    return p + n


def _skip_option_string(b: bytes, p: int) -> int:
    return _skip_string(b, p + 1) if b[p] == 1 else p + 1


def _skip_field(b: bytes, p: int) -> int:
    p = _skip_option_string(b, p)  # name
    _, p = compact_decode(b, p)  # type id
    p = _skip_option_string(b, p)  # type name
    count, p = compact_decode(b, p)  # docs
    for _ in range(count):
        p = _skip_string(b, p)
    return p


def metadata_without_last_field(metadata_option: bytes, variant: str, n_fields: int) -> bytes:
    """The same metadata (Option<OpaqueMetadata>) with one variant's last field removed.

    The variant is found by its encoded name followed by its field count (names in docs are
    never followed by that byte); exactly one match is required."""
    if metadata_option[0] != 1:
        raise ValueError("not Some(metadata)")
    length, start = compact_decode(metadata_option, 1)
    body = metadata_option[start : start + length]
    name = variant.encode()
    marker = compact_encode(len(name)) + name + compact_encode(n_fields)
    at = body.find(marker)
    if at < 0 or body.find(marker, at + 1) >= 0:
        raise ValueError(f"variant {variant} with {n_fields} fields not found exactly once")
    p = at + len(marker) - len(compact_encode(n_fields))
    _, p = compact_decode(body, p)
    for _ in range(n_fields - 1):
        p = _skip_field(body, p)
    end = _skip_field(body, p)
    head = body[: at + len(marker) - len(compact_encode(n_fields))]
    new = head + compact_encode(n_fields - 1) + body[at + len(marker) : p] + body[end:]
    return b"\x01" + compact_encode(len(new)) + new


def in_bt_decode_shape(value: Any) -> Any:
    """A value read straight from SCALE bytes in bt-decode's shape: a 32-byte value as
    ((32 ints),), containers alike (the reader's direct reading is compared with bt-decode's)."""
    if isinstance(value, bytes):
        return (tuple(value),)
    if isinstance(value, dict):
        return {k: in_bt_decode_shape(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(in_bt_decode_shape(v) for v in value)
    return value
