"""SPL token burns out of a jsonParsed getTransaction result (pure functions, no I/O).

A burn is an spl-token (or Token-2022) `burn` or `burnChecked` instruction, at the top level
of the transaction or inside an inner instruction (a program burning by CPI, as Render's
burn wallet does). Failed transactions burned nothing. Each burn gets a stable ordinal in its
transaction, which becomes the lake's `log_index`:

    outer instruction index * 1000              for a top-level burn
    outer instruction index * 1000 + inner + 1  for the inner instruction at position `inner`
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

TOKEN_PROGRAMS = frozenset(
    {
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  # SPL Token
        "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",  # Token-2022
    }
)
BURN_TYPES = frozenset({"burn", "burnChecked"})
INNER_SLOTS = 1000  # inner instructions per outer one that fit the ordinal scheme


class BurnDecodeError(ValueError):
    """A burn instruction that is not in the shape the jsonParsed encoding documents."""


@dataclass(frozen=True)
class Burn:
    signature: str
    slot: int
    block_time: int | None
    ordinal: int
    mint: str
    account: str  # the token account burned from
    authority: str  # signer of the burn: the owner or a delegate
    owner: str | None  # the account's owner, from the transaction's token balances
    amount: int
    decimals: int | None  # burnChecked states them; plain burn does not

    @property
    def from_address(self) -> str:
        """Who burned: the account owner when known, else the signing authority."""
        return self.owner or self.authority


def failed(tx: dict[str, Any]) -> bool:
    meta = tx.get("meta") or {}
    return meta.get("err") is not None


def _account_keys(tx: dict[str, Any]) -> list[str]:
    """Account keys in index order: static keys, then v0 lookup-table loads (writable, then
    readonly), which is how token balances' accountIndex counts them."""
    msg = tx["transaction"]["message"]
    keys = [k["pubkey"] if isinstance(k, dict) else k for k in msg.get("accountKeys", [])]
    loaded = (tx.get("meta") or {}).get("loadedAddresses") or {}
    return keys + list(loaded.get("writable") or []) + list(loaded.get("readonly") or [])


def _owners(tx: dict[str, Any]) -> dict[str, str]:
    keys = _account_keys(tx)
    meta = tx.get("meta") or {}
    out: dict[str, str] = {}
    for bal in (meta.get("preTokenBalances") or []) + (meta.get("postTokenBalances") or []):
        i = bal.get("accountIndex")
        owner = bal.get("owner")
        # A trimmed or partial key list cannot name the account: leave its owner unknown.
        if isinstance(i, int) and 0 <= i < len(keys) and owner:
            out[keys[i]] = owner
    return out


def _instructions(tx: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    outer = tx["transaction"]["message"].get("instructions") or []
    for i, ix in enumerate(outer):
        yield i * INNER_SLOTS, ix
    for group in (tx.get("meta") or {}).get("innerInstructions") or []:
        base = int(group["index"]) * INNER_SLOTS
        for j, ix in enumerate(group.get("instructions") or []):
            if j + 1 >= INNER_SLOTS:
                raise BurnDecodeError(f"more than {INNER_SLOTS - 1} inner instructions")
            yield base + j + 1, ix


def burns_in(
    tx: dict[str, Any], signature: str, mints: Collection[str], owners: Collection[str] = ()
) -> list[Burn]:
    """Burns of the given mints in a successful transaction, in ordinal order.

    With `owners`, only burns whose authority or burned account's owner is one of them count
    (Render: the burn wallet). A failed transaction has none.
    """
    if failed(tx):
        return []
    owner_of: dict[str, str] | None = None
    out: list[Burn] = []
    for ordinal, ix in _instructions(tx):
        parsed = ix.get("parsed")
        if ix.get("programId") not in TOKEN_PROGRAMS or not isinstance(parsed, dict):
            continue
        if parsed.get("type") not in BURN_TYPES:
            continue
        info = parsed.get("info") or {}
        mint = info.get("mint")
        if mint not in mints:
            continue
        authority = info.get("authority") or info.get("multisigAuthority")
        account = info.get("account")
        if parsed["type"] == "burnChecked":
            ta = info.get("tokenAmount") or {}
            raw, decimals = ta.get("amount"), ta.get("decimals")
        else:
            raw, decimals = info.get("amount"), None
        if not (isinstance(raw, str) and raw.isdigit() and authority and account):
            raise BurnDecodeError(f"{signature}: burn instruction {ordinal} lacks fields: {info}")
        if owner_of is None:
            owner_of = _owners(tx)
        owner = owner_of.get(account)
        if owners and authority not in owners and owner not in owners:
            continue
        out.append(
            Burn(
                signature=signature,
                slot=int(tx["slot"]),
                block_time=tx.get("blockTime"),
                ordinal=ordinal,
                mint=mint,
                account=account,
                authority=authority,
                owner=owner,
                amount=int(raw),
                decimals=int(decimals) if decimals is not None else None,
            )
        )
    return sorted(out, key=lambda b: b.ordinal)
