"""The lake inventory reuses a file's verified SHA-256 only while the file is provably the same
version (size, mtime, ctime, inode unchanged); `close` reads every file again regardless.

The hashes expected here come from hashlib over the file's bytes (the oracle), never from the
code under test. To see whether a hash was reused or read again, the cached entry is first
poisoned with a value no file has: an inventory that returns the poison reused the cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from depinrev.lake import Lake
from tests.warehouse.conftest import Built
from warehouse.audit import run_audit
from warehouse.closing import CloseError, close_quarter
from warehouse.raw import (
    FileStamp,
    HashCache,
    create_raw_views,
    inventory,
    load_hash_cache,
    save_hash_cache,
)
from warehouse.rules import load_config_tables

POISON = "f" * 64


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _poison(cache: HashCache, path: Path) -> None:
    cache[str(path)] = replace(cache[str(path)], sha256=POISON)


def _hash_of(lake: Path, cache: HashCache, path: Path) -> str:
    files = {f.abs_path: f.sha256 for f in inventory(Lake(lake), cache)}
    return files[str(path.resolve())]


def _flip_byte_in_place(path: Path, keep_mtime: bool) -> None:
    """Change one byte inside the first column chunk (the footer stays readable), same inode
    and size; optionally put the mtime back as it was."""
    st = path.stat()
    with path.open("r+b") as f:
        f.seek(8)
        b = f.read(1)
        f.seek(8)
        f.write(bytes([b[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_cached_hash_is_reused_only_while_size_mtime_ctime_and_inode_hold(
    built: Built, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(built.lake, lake)
    cache: HashCache = {}
    first = inventory(Lake(lake), cache)
    assert first and all(f.sha256 == _sha(Path(f.abs_path)) for f in first)
    assert set(cache) == {f.abs_path for f in first}
    path = Path(first[0].abs_path)

    # unchanged file: the cached value is what the inventory reports (no read)
    _poison(cache, path)
    assert _hash_of(lake, cache, path) == POISON

    # mtime changed, bytes the same: read again
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert _hash_of(lake, cache, path) == _sha(path)

    # rewritten by rename (new inode), same size and mtime, same bytes: read again
    _poison(cache, path)
    spare = path.with_name(path.name + ".spare")
    shutil.copy2(path, spare)
    os.replace(spare, path)
    new = path.stat()
    assert new.st_ino != st.st_ino and new.st_size == st.st_size
    assert new.st_mtime_ns == st.st_mtime_ns + 1_000_000_000
    assert _hash_of(lake, cache, path) == _sha(path)

    # edited in place: same inode and size, mtime put back; the ctime moved, so read again
    before = _sha(path)
    stamp = FileStamp.of(path.stat())
    _flip_byte_in_place(path, keep_mtime=True)
    after = FileStamp.of(path.stat())
    assert (after.inode, after.size_bytes, after.mtime_ns) == (
        stamp.inode, stamp.size_bytes, stamp.mtime_ns)
    assert _hash_of(lake, cache, path) == _sha(path) != before

    # rewritten in place with another size (same inode): read again
    other = Path(first[1].abs_path)
    _poison(cache, other)
    size = other.stat().st_size
    pq.write_table(pq.read_table(other), other, compression="none")
    assert other.stat().st_size != size
    assert _hash_of(lake, cache, other) == _sha(other)

    # each part of the stamp on its own: a cached entry differing in any one is not reused
    for part in ("size_bytes", "mtime_ns", "ctime_ns", "inode", "device"):
        entry = cache[str(other)]
        stamp = replace(entry.stamp, **{part: getattr(entry.stamp, part) + 1})
        cache[str(other)] = replace(entry, stamp=stamp, sha256=POISON)
        assert _hash_of(lake, cache, other) == _sha(other), part

    # a file gone from the lake leaves the cache
    os.remove(other)
    inventory(Lake(lake), cache)
    assert str(other) not in cache


def test_close_rehashes_every_file_whatever_the_cache_says(built: Built, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(built.lake, lake)
    db = tmp_path / "wh.duckdb"
    shutil.copy(built.db, db)
    with duckdb.connect(str(db)) as con:
        # the warehouse as if built on this copy: its files and a cache verified on them
        con.execute("update audit.lake_files set lake_root = ?", [str(lake.resolve())])
        cache: HashCache = {}
        files = inventory(Lake(lake), cache)
        save_hash_cache(con, cache)
        recorded = dict(con.execute("select path, sha256 from audit.lake_files").fetchall())
        assert recorded == {f.path: _sha(Path(f.abs_path)) for f in files}

        # nothing changed: the close goes through
        assert close_quarter(con, "2025Q2", ["render-devnet"], force=True) == [
            ("render-devnet", 1)]

        # a file's bytes change, and the cache is made to vouch for its new stamp with the
        # old hash (a file system that kept every stamp): close still reads it and refuses
        victim = next(f for f in files if f.network == "render-devnet")
        vpath = Path(victim.abs_path)
        _flip_byte_in_place(vpath, keep_mtime=True)
        forged = load_hash_cache(con)
        forged[str(vpath)] = replace(forged[str(vpath)], stamp=FileStamp.of(vpath.stat()))
        save_hash_cache(con, forged)
        with pytest.raises(CloseError, match=f"{victim.path}: SHA-256 {_sha(vpath)[:12]}"):
            close_quarter(con, "2025Q2", ["render-devnet"], force=True)
        # the fresh hash replaced the forged entry; no new version was recorded
        assert load_hash_cache(con)[str(vpath)].sha256 == _sha(vpath)
        versions = con.execute("select max(version) from audit.quarter_closes where "
                               "network = 'render-devnet' and quarter = '2025Q2'").fetchone()
        assert versions == (1,)

        # a file gone from the lake: refused too
        os.remove(vpath)
        with pytest.raises(CloseError, match="gone from the lake"):
            close_quarter(con, "2025Q2", ["render-devnet"], force=True)


def test_row_checks_kept_per_file_hash_see_a_file_that_changed(
    built: Built, tmp_path: Path
) -> None:
    """The audit's partition/range check of every row is kept per (file, SHA-256): a file
    rewritten with a row outside its block range gets a new hash, is read again and fails."""
    lake = tmp_path / "lake"
    shutil.copytree(built.lake, lake)
    reader = lambda ch: built.world.chain(ch.chain_id)  # noqa: E731

    def audit() -> str:
        with duckdb.connect(str(tmp_path / "check.duckdb")) as con:
            cache = load_hash_cache(con)
            create_raw_views(con, lake, inventory(Lake(lake), cache))
            save_hash_cache(con, cache)
            load_config_tables(con, built.config)
            res = run_audit(con, built.config, Lake(lake), reader)
        return "\n".join(i for qa in res.quarters for i in qa.issues)

    assert "rows outside blocks" not in audit()
    victim = next(c for c in Lake(lake).chunk_files("token_burns", "render-devnet")
                  if pq.read_metadata(c.path).num_rows)
    t = pq.read_table(victim.path)
    blocks = t.column("block_number").to_pylist()
    blocks[0] = victim.end + 1
    i = t.schema.get_field_index("block_number")
    t = t.set_column(i, t.schema.field(i), pa.array(blocks, t.schema.field(i).type))
    pq.write_table(t, victim.path)
    rel = victim.path.relative_to(lake).as_posix()
    assert (f"{rel}: 0 rows of another network/chain than its partition, 1 rows outside "
            f"blocks {victim.start}-{victim.end}") in audit()
