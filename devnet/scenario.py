"""The 2025 history the devnet replays: deployments, then a year of activity on both chains.

Magnitudes follow the public figures in the seed reports (see docs in the module constants);
event counts scale with `scale`, while revenue totals stay near the real figures at any scale
(per-event amounts shrink as counts grow), so dashboards look plausible for tests and bench.
Everything is drawn from random.Random streams seeded by (seed, name): no global random, no
clock.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from depinrev.config import Config, SourceKind
from devnet.abi import load_artifact
from devnet.chain import DEPLOY_GAS, ChainSender, Tx
from devnet.models import EscrowModel, FeedModel, ServiceFeeModel, TokenModel

YEAR_START = 1_735_689_600  # 2025-01-01T00:00:00Z
YEAR_END = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
GENESIS_TIMESTAMP = YEAR_START - 3_600
# Blocks per chain over the year at scale 1: one every ~6 hours. anvil's evm_mine slows with
# every block already on the chain (measured ~1.5 us per existing block), so the replay costs
# grow with the square of the block count; larger scales put more transactions in each block
# instead of adding many more blocks.
BASE_BLOCKS = 1_460
# Never fewer blocks than this: keeps at least four blocks a day, so every daily price update
# has its own block.
MIN_BLOCKS = 1_460
TAIL_EXTRA = 5
TAIL_INTERVAL = 12
N_ACCOUNTS = 60

# Account roles by index into anvil's dev accounts (the default mnemonic).
DEPLOYER = 0
COMMUNITY_POOL = 1
RENDER_BURN_WALLET = 2
IO_BUYBACK_WALLET = 3
TENANTS = range(10, 30)  # Akash tenants on ethereum-devnet, Aethir developers on arbitrum
PROVIDERS = range(30, 40)
USERS = range(40, 50)

# On arbitrum-devnet the deployer starts at this nonce so its contracts never share an address
# with the ethereum-devnet ones; an address alone then names one contract.
ARBITRUM_NONCE_OFFSET = 100


@dataclass(frozen=True)
class DeployStep:
    chain: str
    contract: str
    config_key: str  # a token id (DevToken) or a source name (everything else)


# The fixed deployment order; CREATE addresses follow from it, and `up` checks them against
# the config.
DEPLOY_PLAN: tuple[DeployStep, ...] = (
    DeployStep("ethereum-devnet", "DevToken", "akt-dev"),
    DeployStep("ethereum-devnet", "DevToken", "usdc-dev"),
    DeployStep("ethereum-devnet", "DevToken", "rndr-dev"),
    DeployStep("ethereum-devnet", "LeaseEscrow", "escrow-akt"),
    DeployStep("ethereum-devnet", "LeaseEscrow", "escrow-usdc"),
    DeployStep("ethereum-devnet", "PriceFeed", "akt-usd-feed"),
    DeployStep("ethereum-devnet", "PriceFeed", "rndr-usd-feed"),
    DeployStep("arbitrum-devnet", "DevToken", "ath-dev"),
    DeployStep("arbitrum-devnet", "DevToken", "io-dev"),
    DeployStep("arbitrum-devnet", "ServiceFee", "service-fees"),
    DeployStep("arbitrum-devnet", "PriceFeed", "ath-usd-feed"),
    DeployStep("arbitrum-devnet", "PriceFeed", "io-usd-feed"),
)

# Akash-style take rates (code defaults: 2% on AKT, 20% on other denoms).
TAKE_BPS = {"escrow-akt": 200, "escrow-usdc": 2_000}

# Daily USD price paths: (start, rough end of year, daily volatility). Floats only drive the
# walk; answers are integers with 8 decimals.
PRICE_PATHS: dict[str, tuple[float, float, float]] = {
    "akt-dev": (2.90, 1.10, 0.045),
    "rndr-dev": (7.20, 2.40, 0.050),
    "ath-dev": (0.062, 0.031, 0.050),
    "io-dev": (2.40, 0.55, 0.055),
}

# Initial supply minted to the treasury (the deployer) in whole tokens.
INITIAL_SUPPLY = {
    "akt-dev": 250_000_000,
    "usdc-dev": 0,
    "rndr-dev": 530_000_000,
    "ath-dev": 10_000_000_000,
    "io-dev": 500_000_000,
}

# Akash: new leases per quarter at scale 1 (mainnet had ~27k in Q3 2025; scaled down 100x),
# and the mean USD a lease spends per day so that Q3 settles ~ $850k like the seed report.
AKASH_NEW_LEASES = (150, 190, 270, 330)
AKASH_USD_PER_LEASE_DAY = 157.0
AKASH_AKT_SHARE = 0.6

# Render: monthly RNDR burned; Jan 20,452 to Sep 120,928 (seed report), geometric in between,
# then flat-to-rising for Q4.
RENDER_BURN_JAN = 20_452
RENDER_BURN_SEP = 120_928
RENDER_BURNS_PER_MONTH = 60
RENDER_MINTS_PER_MONTH = 8

# Aethir: quarterly net service fees in USD (Q1-Q3 from the seed report, Q4 +18%).
AETHIR_NET_USD = (28_500_000, 32_700_000, 39_900_000, 47_100_000)
AETHIR_DEPOSITS = (600, 700, 800, 900)
AETHIR_WITHDRAW_SHARE = 0.10  # of gross deposits, in count and value

# io.net: weekly buy-and-burn in USD, growing over the year.
IONET_WEEKLY_USD = (300_000, 600_000)
IONET_BURNS_PER_WEEK = 3
EMISSION_MINTS_PER_MONTH = 4


def scaled(base: float, scale: float) -> int:
    return max(1, round(base * scale))


def month_bounds(month: int) -> tuple[int, int]:
    """[start, end) of a 2025 month (1-12) in unix seconds, without calendar imports."""
    import datetime as dt

    start = dt.datetime(2025, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) if month == 12 else start.replace(month=month + 1)
    return int(start.timestamp()), int(end.timestamp())


def quarter_bounds(q: int) -> tuple[int, int]:
    return month_bounds(3 * q + 1)[0], month_bounds(3 * q + 3)[1]


def split_int(total: int, n: int, rng: random.Random, spread: float = 0.7) -> list[int]:
    """Split an integer into n positive integer parts that sum to it exactly."""
    if n <= 0:
        return []
    if total < n:
        raise ValueError(f"cannot split {total} into {n} positive parts")
    weights = [int(rng.uniform(1 - spread, 1 + spread) * 1_000_000) for _ in range(n)]
    w = sum(weights)
    parts = [max(1, total * wi // w) for wi in weights]
    parts[-1] += total - sum(parts)
    if parts[-1] <= 0:  # rounding pushed too much into the others: even it out
        base = total // n
        parts = [base] * n
        parts[-1] += total - base * n
    return parts


def block_timestamps(rng: random.Random, scale: float) -> list[int]:
    """History block times: strictly increasing, all inside 2025, after the setup blocks."""
    n = max(MIN_BLOCKS, round(BASE_BLOCKS * min(max(scale, 0.0), 2.0)))
    first = YEAR_START + 60
    span = YEAR_END - 60 - first
    gaps = [rng.uniform(0.5, 1.5) for _ in range(n)]
    total = sum(gaps)
    out: list[int] = []
    acc = 0.0
    prev = first - 1
    for g in gaps:
        acc += g
        t = max(first + int(span * acc / total), prev + 1)
        out.append(t)
        prev = t
    if out[-1] >= YEAR_END:
        raise AssertionError("history blocks must end inside 2025")
    return out


def price_path(token: str, seed: int) -> list[int]:
    """Daily answers (8 decimals) for each day of 2025."""
    start, end, vol = PRICE_PATHS[token]
    rng = random.Random(f"{seed}:price:{token}")
    drift = math.log(end / start) / 364
    log_p = math.log(start)
    out: list[int] = []
    for _ in range(365):
        out.append(max(1, round(math.exp(log_p) * 1e8)))
        log_p += drift + rng.gauss(0.0, vol)
        # Mean-revert toward the intended path so a year of noise cannot wander off by 10x.
        target = math.log(start) + drift * (len(out))
        log_p += 0.05 * (target - log_p)
    return out


def usd_to_raw(usd_cents: int, decimals: int, answer: int) -> int:
    """Token raw amount worth `usd_cents` at an 8-decimal USD price `answer` (floor)."""
    return usd_cents * 10**decimals * 10**8 // (answer * 100)


Action = Callable[[int], None]


@dataclass
class Scheduler:
    """Actions keyed by the earliest time they may run; ties run in scheduling order."""

    heap: list[tuple[int, int, Action]] = field(default_factory=list)
    seq: int = 0

    def at(self, t: int, action: Action) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, action))

    def due(self, t: int) -> list[Action]:
        out: list[Action] = []
        while self.heap and self.heap[0][0] <= t:
            out.append(heapq.heappop(self.heap)[2])
        return out


@dataclass
class ChainWorld:
    """Everything one chain's replay knows: models, accounts, block times and the scheduler."""

    name: str
    config: Config
    sender: ChainSender
    accounts: list[str]
    seed: int
    scale: float
    history: list[int] = field(default_factory=list)
    tokens: dict[str, TokenModel] = field(default_factory=dict)
    escrows: dict[str, EscrowModel] = field(default_factory=dict)
    fees: dict[str, ServiceFeeModel] = field(default_factory=dict)
    feeds: dict[str, FeedModel] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    sched: Scheduler = field(default_factory=Scheduler)
    prices: dict[str, list[int]] = field(default_factory=dict)
    touched: set[tuple[str, int]] = field(default_factory=set)

    @property
    def deployer(self) -> str:
        return self.accounts[DEPLOYER]

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.name}:{name}")

    def answer(self, token: str, t: int) -> int:
        day = min(364, max(0, (t - YEAR_START) // DAY))
        return self.prices[token][day]

    @property
    def mean_block_interval(self) -> float:
        return (self.history[-1] - self.history[0]) / max(1, len(self.history) - 1)

    # --- deployment ---------------------------------------------------------------------------
    def deploy(self, rpc_call: Callable[..., Any]) -> None:
        """Deploy this chain's contracts in DEPLOY_PLAN order, all in block 1."""
        network_of: dict[str, str] = {}
        for nname, net in self.config.networks.items():
            for src in net.sources:
                if src.chain == self.name:
                    network_of[src.name] = nname
                    if src.kind is SourceKind.erc20:
                        network_of[f"token:{src.token}"] = nname
        sources = {s.name: s for n in self.config.networks.values() for s in n.sources}
        start_nonce = ARBITRUM_NONCE_OFFSET if self.name == "arbitrum-devnet" else 0
        if start_nonce:
            rpc_call("anvil_setNonce", self.deployer, hex(start_nonce))
            self.sender.nonces[self.deployer] = start_nonce
        steps = [s for s in DEPLOY_PLAN if s.chain == self.name]
        deploy_txs: list[str] = []
        for step in steps:
            art = load_artifact(step.contract)
            if step.contract == "DevToken":
                tok = self.config.tokens[step.config_key]
                data = art.deploy_data(f"Devnet {tok.symbol}", tok.symbol, tok.decimals)
            elif step.contract == "LeaseEscrow":
                src = sources[step.config_key]
                data = art.deploy_data(
                    self.addresses[src.token],
                    self.accounts[COMMUNITY_POOL],
                    TAKE_BPS[step.config_key],
                )
            elif step.contract == "ServiceFee":
                data = art.deploy_data(self.addresses[sources[step.config_key].token])
            else:
                data = art.deploy_data(f"{sources[step.config_key].token} / USD")
            nonce = self.sender.nonces.get(self.deployer, 0) + len(deploy_txs)
            addr = create_address(self.deployer, nonce)
            self.addresses[step.config_key] = addr
            deploy_txs.append(step.config_key)
            self.sender.add(Tx(self.deployer, None, data, [], gas=DEPLOY_GAS))
            if step.contract == "DevToken":
                tok = self.config.tokens[step.config_key]
                self.tokens[step.config_key] = TokenModel(
                    step.config_key,
                    addr,
                    tok.decimals,
                    self.deployer,
                    network_of.get(f"token:{step.config_key}"),
                )
            elif step.contract == "LeaseEscrow":
                src = sources[step.config_key]
                self.escrows[step.config_key] = EscrowModel(
                    step.config_key,
                    network_of[step.config_key],
                    addr,
                    self.tokens[src.token],
                    self.accounts[COMMUNITY_POOL],
                    TAKE_BPS[step.config_key],
                )
            elif step.contract == "ServiceFee":
                src = sources[step.config_key]
                self.fees[step.config_key] = ServiceFeeModel(
                    step.config_key, network_of[step.config_key], addr, self.tokens[src.token]
                )
            else:
                src = sources[step.config_key]
                self.feeds[step.config_key] = FeedModel(
                    step.config_key, network_of[step.config_key], addr, src.token, self.deployer
                )
        block = self.sender.mine(YEAR_START)
        receipts = [rpc_call("eth_getTransactionReceipt", h) for h in block.tx_hashes]
        for key, rcpt in zip(deploy_txs, receipts, strict=True):
            got = (rcpt or {}).get("contractAddress")
            if rcpt is None or int(rcpt["status"], 16) != 1 or got is None:
                raise RuntimeError(f"deployment of {key} on {self.name} failed: {rcpt}")
            if got.lower() != self.addresses[key]:
                raise RuntimeError(
                    f"deployment of {key} on {self.name} landed at {got.lower()}, "
                    f"expected {self.addresses[key]}"
                )

    # --- setup block: treasury mints and standing approvals ----------------------------------
    def setup(self) -> None:
        for key, tok in self.tokens.items():
            whole = INITIAL_SUPPLY.get(key, 0)
            if whole:
                tok.mint(self.sender, self.deployer, whole * 10**tok.decimals)
        tenants = [self.accounts[i] for i in TENANTS]
        for esc in self.escrows.values():
            for t in tenants:
                esc.token.approve(self.sender, t, esc.address)
        for fee in self.fees.values():
            for t in tenants:
                fee.token.approve(self.sender, t, fee.address)
        self.sender.mine(YEAR_START + 12)

    def fund(self, token: TokenModel, who: str, need: int) -> None:
        """Make sure `who` holds `need`: from the treasury, or minted when it runs dry."""
        have = token.balance(who)
        if have >= need:
            return
        top_up = (need - have) * 2
        if token.balance(self.deployer) < top_up:
            token.mint(self.sender, self.deployer, top_up)
        token.transfer(self.sender, self.deployer, who, top_up)

    # --- price feeds --------------------------------------------------------------------------
    def schedule_feeds(self) -> None:
        for feed in self.feeds.values():
            answers = self.prices[feed.token_key]
            for day in range(365):
                midnight = YEAR_START + day * DAY

                def submit(
                    _t: int, feed: FeedModel = feed, a: int = answers[day], m: int = midnight
                ) -> None:
                    feed.submit(self.sender, a, m)

                self.sched.at(max(midnight, self.history[0]), submit)

    def schedule_emissions(self, token_key: str, monthly_whole: int) -> None:
        """Monthly emission mints to users (node rewards): supply grows as on mainnet."""
        tok = self.tokens[token_key]
        rng = self.rng(f"emission:{token_key}")
        users = [self.accounts[i] for i in USERS]
        for month in range(1, 13):
            lo, hi = month_bounds(month)
            n = scaled(EMISSION_MINTS_PER_MONTH, self.scale)
            total = int(monthly_whole * rng.uniform(0.8, 1.2)) * 10**tok.decimals
            for amount in split_int(total, n, rng):
                to = rng.choice(users)

                def mint(_t: int, to: str = to, amount: int = amount) -> None:
                    tok.mint(self.sender, to, amount)

                self.sched.at(rng.randrange(lo, hi), mint)

    # --- the run loop -------------------------------------------------------------------------
    def run(self) -> None:
        for ts in self.history:
            self.touched.clear()
            for action in self.sched.due(ts):
                action(ts)
            self.sender.mine(ts)

    def mine_tail(self, depth: int) -> None:
        for k in range(depth + TAIL_EXTRA):
            self.sender.mine(YEAR_END + k * TAIL_INTERVAL)

    def lease_busy(self, escrow: str, lease_id: int, t: int, retry: Action) -> bool:
        """One operation per lease per block keeps the bookkeeping simple; retry later."""
        key = (escrow, lease_id)
        if key in self.touched:
            self.sched.at(t + 1, retry)
            return True
        self.touched.add(key)
        return False


def create_address(sender: str, nonce: int) -> str:
    import rlp
    from eth_utils import keccak

    raw = keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:]
    return "0x" + raw.hex()


# --- networks ----------------------------------------------------------------------------------


def schedule_akash(w: ChainWorld) -> None:
    rng = w.rng("akash")
    tenants = [w.accounts[i] for i in TENANTS]
    providers = [w.accounts[i] for i in PROVIDERS]
    esc_akt, esc_usdc = w.escrows["escrow-akt"], w.escrows["escrow-usdc"]
    interval = w.mean_block_interval

    def create(t: int) -> None:
        esc = esc_akt if rng.random() < AKASH_AKT_SHARE else esc_usdc
        tok = esc.token
        tenant, provider = rng.choice(tenants), rng.choice(providers)
        usd_day = AKASH_USD_PER_LEASE_DAY * rng.lognormvariate(-0.125, 0.5) / w.scale
        answer = w.answer("akt-dev", t) if tok.key == "akt-dev" else 10**8
        per_block_cents = int(usd_day * 100 * interval / DAY)
        price = max(1, usd_to_raw(per_block_cents, tok.decimals, answer))
        duration = int(min(90.0, rng.lognormvariate(math.log(10), 0.8)) * DAY)
        expected_blocks = max(1, int(duration / interval))
        deposit = price * expected_blocks * rng.randint(50, 130) // 100
        w.fund(tok, tenant, deposit)
        lease = esc.create(w.sender, tenant, provider, price, deposit)
        w.touched.add((esc.name, lease.lease_id))
        end = t + duration
        every = int(rng.uniform(1.5, 4.0) * DAY)
        for k in range(1, 1 + (duration // every)):
            w.sched.at(t + k * every, make_withdraw(esc, lease.lease_id))
        if rng.random() < 0.5:
            amount = price * expected_blocks * rng.randint(30, 80) // 100
            w.sched.at(
                t + int(duration * rng.uniform(0.3, 0.7)),
                make_deposit(esc, lease.lease_id, max(1, amount)),
            )
        if end < YEAR_END:
            w.sched.at(end, make_close(esc, lease.lease_id, rng.random() < 0.7))

    def make_withdraw(esc: EscrowModel, lid: int) -> Action:
        def act(t: int) -> None:
            lease = esc.leases[lid]
            if not lease.open or w.lease_busy(esc.name, lid, t, act):
                return
            esc.withdraw(w.sender, lease)

        return act

    def make_deposit(esc: EscrowModel, lid: int, amount: int) -> Action:
        def act(t: int) -> None:
            lease = esc.leases[lid]
            if not lease.open or w.lease_busy(esc.name, lid, t, act):
                return
            w.fund(esc.token, lease.tenant, amount)
            esc.deposit(w.sender, lease, amount)

        return act

    def make_close(esc: EscrowModel, lid: int, by_tenant: bool) -> Action:
        def act(t: int) -> None:
            lease = esc.leases[lid]
            if not lease.open or w.lease_busy(esc.name, lid, t, act):
                return
            esc.close(w.sender, lease, lease.tenant if by_tenant else lease.provider)

        return act

    for q, base in enumerate(AKASH_NEW_LEASES):
        lo, hi = quarter_bounds(q)
        for _ in range(scaled(base, w.scale)):
            w.sched.at(rng.randrange(max(lo, w.history[0]), hi), create)
    w.schedule_emissions("akt-dev", 3_000_000)


def render_monthly_burns(rng: random.Random) -> list[int]:
    ratio = (RENDER_BURN_SEP / RENDER_BURN_JAN) ** (1 / 8)
    out = [RENDER_BURN_JAN * ratio**m for m in range(9)]
    out += [RENDER_BURN_SEP * (1.0 + 0.03 * k) for k in range(1, 4)]
    return [int(v * rng.uniform(0.95, 1.05)) for v in out]


def schedule_burns(
    w: ChainWorld, token_key: str, wallet: str, windows: list[tuple[int, int, int]], rng_name: str
) -> None:
    """Burn `total` raw tokens in each [lo, hi) window as several burns from `wallet`.

    A user pays the wallet first (an ordinary transfer, not in the ledger), then the wallet
    burns, like a burn-and-mint job payment or a buy-and-burn.
    """
    tok = w.tokens[token_key]
    rng = w.rng(rng_name)
    users = [w.accounts[i] for i in USERS]
    per_window = RENDER_BURNS_PER_MONTH if rng_name == "render" else IONET_BURNS_PER_WEEK
    for lo, hi, total in windows:
        count = scaled(per_window, w.scale)
        for amount in split_int(total, count, rng):
            user = rng.choice(users)

            def burn(_t: int, user: str = user, amount: int = amount) -> None:
                w.fund(tok, user, amount)
                tok.transfer(w.sender, user, wallet, amount)
                tok.burn(w.sender, wallet, amount)

            w.sched.at(rng.randrange(max(lo, w.history[0]), hi), burn)


def schedule_render(w: ChainWorld) -> None:
    rng = w.rng("render-months")
    dec = w.tokens["rndr-dev"].decimals
    windows = []
    for month, whole in enumerate(render_monthly_burns(rng), start=1):
        lo, hi = month_bounds(month)
        windows.append((lo, hi, whole * 10**dec + rng.randrange(10**dec)))
    schedule_burns(w, "rndr-dev", w.accounts[RENDER_BURN_WALLET], windows, "render")
    w.schedule_emissions("rndr-dev", 250_000)


def schedule_ionet(w: ChainWorld) -> None:
    rng = w.rng("ionet-weeks")
    dec = w.tokens["io-dev"].decimals
    windows = []
    lo_usd, hi_usd = IONET_WEEKLY_USD
    for week in range(53):
        lo = YEAR_START + week * 7 * DAY
        hi = min(YEAR_END, lo + 7 * DAY)
        usd = (lo_usd + (hi_usd - lo_usd) * week / 52) * rng.uniform(0.85, 1.15)
        raw = usd_to_raw(int(usd * 100), dec, w.answer("io-dev", lo))
        windows.append((lo, hi, raw))
    schedule_burns(w, "io-dev", w.accounts[IO_BUYBACK_WALLET], windows, "ionet")
    w.schedule_emissions("io-dev", 8_000_000)


def schedule_aethir(w: ChainWorld) -> None:
    rng = w.rng("aethir")
    fee = w.fees["service-fees"]
    tok = fee.token
    devs = [w.accounts[i] for i in TENANTS]
    for q, (net_usd, base) in enumerate(zip(AETHIR_NET_USD, AETHIR_DEPOSITS, strict=True)):
        lo, hi = quarter_bounds(q)
        lo = max(lo, w.history[0])
        gross_cents = int(net_usd / (1 - AETHIR_WITHDRAW_SHARE)) * 100
        n_dep = scaled(base, w.scale)
        for cents in split_int(gross_cents, n_dep, rng, spread=0.9):
            dev = rng.choice(devs)

            def deposit(t: int, dev: str = dev, cents: int = cents) -> None:
                amount = max(1, usd_to_raw(cents, tok.decimals, w.answer("ath-dev", t)))
                w.fund(tok, dev, amount)
                fee.deposit(w.sender, dev, amount)

            w.sched.at(rng.randrange(lo, hi), deposit)
        n_wd = scaled(base * AETHIR_WITHDRAW_SHARE, w.scale)
        per_wd_cents = gross_cents * AETHIR_WITHDRAW_SHARE / n_wd
        for _ in range(n_wd):
            want = int(per_wd_cents * rng.uniform(0.5, 1.5))

            def withdraw(t: int, want: int = want) -> None:
                holders = sorted(d for d, b in fee.balances.items() if b > 0)
                if not holders:
                    return
                dev = holders[int(want) % len(holders)]
                amount = min(
                    fee.balances[dev],
                    max(1, usd_to_raw(want, tok.decimals, w.answer("ath-dev", t))),
                )
                fee.withdraw(w.sender, dev, amount)

            w.sched.at(rng.randrange(lo, hi), withdraw)
    w.schedule_emissions("ath-dev", 300_000_000)


NETWORK_SCHEDULERS: dict[str, tuple[str, Callable[[ChainWorld], None]]] = {
    "akash-devnet": ("ethereum-devnet", schedule_akash),
    "render-devnet": ("ethereum-devnet", schedule_render),
    "aethir-devnet": ("arbitrum-devnet", schedule_aethir),
    "ionet-devnet": ("arbitrum-devnet", schedule_ionet),
}
