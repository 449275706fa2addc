"""Start, fill, cache and stop the local anvil devnet; the library behind `depinrev devnet`."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from chains.transport import redact
from depinrev.config import Config, SourceKind, load_config
from devnet import scenario
from devnet.abi import ARTIFACT_DIR, REPO_ROOT, calldata
from devnet.chain import ChainSender
from devnet.ledger import (
    LEDGER_FILE,
    SUMMARY_FILE,
    read_ledger,
    summarize,
    write_json,
    write_ledger,
)
from devnet.reported import REPORTED_FILE, simulated_figures, write_reported_figures
from devnet.rpc import Rpc, try_chain_id
from devnet.scenario import (
    ARBITRUM_NONCE_OFFSET,
    DEPLOY_PLAN,
    GENESIS_TIMESTAMP,
    N_ACCOUNTS,
    NETWORK_SCHEDULERS,
    ChainWorld,
    create_address,
)

# Bump when the replay changes in a way the hashed sources below do not capture.
SIM_VERSION = "1"
STATE_FILE = "state.json"
DEFAULT_ANVIL = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
# anvil's first dev account for the default mnemonic.
DEV_DEPLOYER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
# Files whose content decides the replayed chain; a change invalidates cached chains.
SIM_SOURCES = ("scenario.py", "models.py", "chain.py", "abi.py", "api.py")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Writing a dump with every block's state takes a while on a big (bench) chain.
DUMP_TIMEOUT = 600.0

Log = Callable[[str], None]


class DevnetError(RuntimeError):
    """A devnet that cannot be started, checked or stopped; the message says what to do."""


@dataclass
class ChainState:
    name: str
    chain_id: int
    rpc_url: str
    port: int
    pid: int | None
    log_file: str
    head_block: int
    head_hash: str
    finality_depth: int


@dataclass
class DevnetState:
    data_dir: str
    config_path: str
    seed: int
    scale: float
    cache_key: str
    source: str  # "replay" or "cache"
    chains: dict[str, ChainState]
    addresses: dict[str, str]
    ledger_path: str
    summary_path: str
    events: int
    elapsed_seconds: float
    running: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DevnetState:
        chains = {k: ChainState(**v) for k, v in raw["chains"].items()}
        return cls(**{**raw, "chains": chains})


def anvil_binary() -> Path:
    path = Path(os.environ.get("DEPINREV_ANVIL", DEFAULT_ANVIL))
    if not path.exists():
        raise DevnetError(f"anvil not found at {path}: run `npm ci` (or set DEPINREV_ANVIL)")
    return path


def anvil_args(
    port: int, chain_id: int, load_state: Path | None, dump_state: Path | None = None
) -> list[str]:
    # Base fee 0 keeps gas free and lets the gas price alone order a block's transactions; the
    # huge gas limit lets the bench put thousands of transactions in one block.
    args = [
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--accounts", str(N_ACCOUNTS),
        "--base-fee", "0",
        "--gas-limit", "100000000000",
        "--timestamp", str(GENESIS_TIMESTAMP),
        "--order", "fees",
        "--silent",
    ]  # fmt: skip
    if load_state is not None:
        args += ["--load-state", str(load_state)]
    if dump_state is not None:
        # Written when anvil stops, with every block's state: a chain restored from it still
        # answers eth_call at past blocks, which the audit's reconciliation needs. (The
        # anvil_dumpState RPC keeps only the latest state.)
        args += ["--dump-state", str(dump_state), "--preserve-historical-states"]
    return args


# --- addresses and the config file -----------------------------------------------------------


def expected_addresses() -> dict[str, str]:
    """CREATE addresses of DEPLOY_PLAN: they depend only on the deployer and its nonces."""
    out: dict[str, str] = {}
    nonce: dict[str, int] = {"arbitrum-devnet": ARBITRUM_NONCE_OFFSET}
    for step in DEPLOY_PLAN:
        n = nonce.get(step.chain, 0)
        out[step.config_key] = create_address(DEV_DEPLOYER, n)
        nonce[step.chain] = n + 1
    return out


def config_addresses(config: Config) -> dict[str, tuple[str, str | None]]:
    """What the config says for each deployed key: {key: (where in the file, address)}."""
    out: dict[str, tuple[str, str | None]] = {}
    for step in DEPLOY_PLAN:
        if step.contract == "DevToken":
            tok = config.tokens.get(step.config_key)
            if tok is None:
                raise DevnetError(f"config has no token {step.config_key!r} the devnet deploys")
            out[step.config_key] = (f"tokens.{step.config_key}.address", tok.address)
            continue
        found = [
            (f"networks.{n}.sources[{i}] ({s.name})", s.address)
            for n, net in config.networks.items()
            for i, s in enumerate(net.sources)
            if s.name == step.config_key
        ]
        if len(found) != 1:
            raise DevnetError(
                f"config must have exactly one source named {step.config_key!r}; found {len(found)}"
            )
        out[step.config_key] = found[0]
    return out


def check_config_addresses(config: Config, config_path: Path) -> dict[str, str]:
    expected = expected_addresses()
    problems: list[str] = []
    for key, (where, addr) in config_addresses(config).items():
        if addr != expected[key]:
            problems.append(f"  {where}: config has {addr}, the devnet deploys {expected[key]}")
    for nname, net in config.networks.items():
        for i, s in enumerate(net.sources):
            if (
                s.kind is SourceKind.erc20
                and s.token in expected
                and s.address != expected[s.token]
            ):
                problems.append(
                    f"  networks.{nname}.sources[{i}] ({s.name}): config has {s.address}, "
                    f"the token {s.token} is deployed at {expected[s.token]}"
                )
    if problems:
        raise DevnetError(
            f"{config_path}: contract addresses do not match the deterministic deployment:\n"
            + "\n".join(problems)
            + "\nrun `depinrev devnet up --write-addresses` to fill them in"
        )
    return expected


def write_config_addresses(config_path: Path) -> dict[str, str]:
    """Rewrite the address fields of the config in place (text edit keeps comments)."""
    expected = expected_addresses()
    config = load_config(config_path)
    text = config_path.read_text()
    token_of_source = {
        s.name: s.token
        for net in config.networks.values()
        for s in net.sources
        if s.kind is SourceKind.erc20
    }
    for key, addr in [*expected.items(), *((s, expected[t]) for s, t in token_of_source.items())]:
        addr_re = r'address:\s*")(0x[0-9a-fA-F]{40})(")'
        token_line = re.compile(rf"^(\s*{re.escape(key)}:\s*\{{.*?" + addr_re, re.M)
        source_line = re.compile(
            rf'^(\s*-\s*\{{name:\s*{re.escape(key)},.*?address:\s*")(0x[0-9a-fA-F]{{40}})(")', re.M
        )
        text, n1 = token_line.subn(rf"\g<1>{addr}\g<3>", text)
        text, n2 = source_line.subn(rf"\g<1>{addr}\g<3>", text)
        if n1 + n2 == 0:
            raise DevnetError(f"{config_path}: found no address field for {key!r} to fill in")
    config_path.write_text(text)
    load_config(config_path)
    return expected


# --- processes -------------------------------------------------------------------------------

# Popen handles of nodes this process started, so they are reaped (no zombies) when stopped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # A zombie has exited; only its exit status is left to collect.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def is_anvil(pid: int) -> bool:
    try:
        return b"anvil" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def local_port(url: str, chain: str) -> int:
    u = urlparse(url)
    if u.hostname not in ("127.0.0.1", "localhost") or u.port is None:
        raise DevnetError(
            f"chain {chain}: RPC URL {redact(url)} is not a local 127.0.0.1:<port> URL; the "
            "devnet only "
            "starts nodes on this machine"
        )
    return u.port


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def check_port_free(port: int, chain: str, chain_id: int, url: str) -> None:
    if not port_in_use(port):
        return
    running = try_chain_id(url)
    if running is None:
        raise DevnetError(
            f"chain {chain}: port {port} is already taken by another process (not a JSON-RPC "
            f"node); stop it or point {chain}'s RPC variable at a free port"
        )
    if running != chain_id:
        raise DevnetError(
            f"chain {chain}: a node on port {port} answers with chain id {running}, but the "
            f"config says {chain_id}; stop that node or use another port"
        )
    raise DevnetError(
        f"chain {chain}: a node with chain id {chain_id} already runs on port {port}; run "
        "`depinrev devnet down` (with its --data-dir) first"
    )


def start_anvil(
    chain: str,
    port: int,
    chain_id: int,
    data_dir: Path,
    load_state: Path | None,
    dump_state: Path | None = None,
) -> tuple[int, Path]:
    log_path = data_dir / f"anvil-{chain}.log"
    cmd = [str(anvil_binary()), *anvil_args(port, chain_id, load_state, dump_state)]
    # anvil keeps block states it moves out of memory under ~/.foundry/anvil/tmp and leaves
    # them there when stopped: a HOME inside the devnet's directory keeps them with the devnet
    # (removed by `down`) instead of filling the user's disk across runs.
    home = data_dir / "anvil-home"
    home.mkdir(exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=data_dir,
            env={**os.environ, "HOME": str(home)},
        )
    _CHILDREN[proc.pid] = proc
    (data_dir / f"anvil-{chain}.pid").write_text(f"{proc.pid}\n")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise DevnetError(f"anvil for {chain} exited with {proc.returncode}:\n{tail}")
        got = try_chain_id(url, timeout=1.0)
        if got is not None:
            if got != chain_id:
                stop_pid(proc.pid)
                raise DevnetError(f"anvil for {chain} reports chain id {got}, expected {chain_id}")
            return proc.pid, log_path
        time.sleep(0.05)
    stop_pid(proc.pid)
    raise DevnetError(f"anvil for {chain} did not answer on {url} within {START_TIMEOUT:.0f}s")


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; True if a process was stopped."""
    if not pid_alive(pid) or not is_anvil(pid):
        _reap(pid)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        _reap(pid)
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    return True


def _reap(pid: int) -> None:
    proc = _CHILDREN.get(pid)
    if proc is not None and proc.poll() is not None:
        _CHILDREN.pop(pid, None)


# --- cache -----------------------------------------------------------------------------------


def cache_key(config_path: Path, seed: int, scale: float, keep_history: bool = True) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"seed": seed, "scale": scale, "version": SIM_VERSION}).encode())
    if not keep_history:
        h.update(b"latest-state-only")
    here = Path(__file__).resolve().parent
    for name in SIM_SOURCES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes())
    for art in sorted(ARTIFACT_DIR.glob("*.json")):
        h.update(art.name.encode() + b"\0" + art.read_bytes())
    h.update(config_path.read_bytes())
    # Cache format: dumps written by anvil on exit with every block's state (see anvil_args).
    h.update(b"dump-with-historical-states")
    # The anvil version and flags shape block hashes too.
    h.update(" ".join(anvil_args(0, 0, None)).encode())
    h.update(str(anvil_binary().stat().st_size).encode())
    return h.hexdigest()[:20]


def dump_latest_state(url: str, path: Path) -> None:
    """The chain's latest state (anvil_dumpState) as the plain JSON --load-state reads."""
    with Rpc(url) as rpc:
        raw = rpc.call("anvil_dumpState")
    data = bytes.fromhex(raw.removeprefix("0x"))
    if data[:2] == b"\x1f\x8b":  # anvil returns gzip; --load-state wants the plain JSON
        data = gzip.decompress(data)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def stop_dumping(pid: int, path: Path) -> None:
    """Stop an anvil started with --dump-state so that it writes its state file (SIGINT)."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + DUMP_TIMEOUT
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            break
        time.sleep(0.05)
    else:
        stop_pid(pid)
        raise DevnetError(f"anvil (pid {pid}) did not write {path} within {DUMP_TIMEOUT:.0f}s")
    if not path.exists():
        raise DevnetError(f"anvil (pid {pid}) stopped without writing {path}")


# --- replay ----------------------------------------------------------------------------------


def _replay(
    config: Config, urls: dict[str, str], seed: int, scale: float, say: Log
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, str]]:
    worlds: dict[str, ChainWorld] = {}
    rpcs: dict[str, Rpc] = {}
    try:
        for name, chain in config.chains.items():
            rpc = Rpc(urls[name])
            rpcs[name] = rpc
            rpc.call("evm_setAutomine", False)
            accounts = [a.lower() for a in rpc.call("eth_accounts")]
            sender = ChainSender(rpc=rpc, chain_name=name, chain_id=chain.chain_id)
            w = ChainWorld(name, config, sender, accounts, seed, scale)
            w.deploy(rpc.call)
            w.setup()
            w.history = scenario.block_timestamps(w.rng("blocks"), scale)
            for token in scenario.PRICE_PATHS:
                w.prices[token] = scenario.price_path(token, seed)
            w.schedule_feeds()
            worlds[name] = w
        for network, (chain_name, schedule) in NETWORK_SCHEDULERS.items():
            if network in config.networks:
                schedule(worlds[chain_name])

        errors: list[BaseException] = []

        def run(w: ChainWorld) -> None:
            try:
                t0 = time.monotonic()
                w.run()
                w.mine_tail(config.chains[w.name].finality_depth)
                rpcs[w.name].call("evm_setAutomine", True)
                say(
                    f"  {w.name}: {w.sender.head} blocks, {w.sender.txs_sent} txs, "
                    f"{w.sender.logs_emitted} logs in {time.monotonic() - t0:.1f}s "
                    f"(sending {w.sender.send_seconds:.1f}s, mining {w.sender.mine_seconds:.1f}s)"
                )
            except BaseException as exc:
                errors.append(exc)

        # One thread per chain: each waits on its own anvil, so they overlap well.
        threads = [threading.Thread(target=run, args=(w,)) for w in worlds.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        expected = {name: _verify(w, rpcs[name]) for name, w in worlds.items()}
        rows = [r for w in worlds.values() for r in w.sender.ledger]
        addresses = {k: v for w in worlds.values() for k, v in w.addresses.items()}
        return rows, expected, addresses
    finally:
        for rpc in rpcs.values():
            rpc.close()


def _erc20_call(rpc: Rpc, token: str, sig: str, *args: Any) -> int:
    return int(rpc.call("eth_call", {"to": token, "data": calldata(sig, *args)}, "latest"), 16)


def _verify(w: ChainWorld, rpc: Rpc) -> dict[str, Any]:
    """Compare the models with the chain; a mismatch means a transaction failed or moved."""
    problems: list[str] = []
    supplies: dict[str, str] = {}
    for key, tok in w.tokens.items():
        got = _erc20_call(rpc, tok.address, "totalSupply()")
        if got != tok.total_supply:
            problems.append(f"{key} totalSupply: chain {got}, model {tok.total_supply}")
        supplies[key] = str(tok.total_supply)
    escrows: dict[str, Any] = {}
    for name, esc in w.escrows.items():
        got = _erc20_call(rpc, esc.token.address, "balanceOf(address)", esc.address)
        if got != esc.balance:
            problems.append(f"{name} balance: chain {got}, model {esc.balance}")
        escrows[name] = {"address": esc.address, "token": esc.token.key, "balance": str(got)}
    fees: dict[str, Any] = {}
    for name, fee in w.fees.items():
        got = _erc20_call(rpc, fee.token.address, "balanceOf(address)", fee.address)
        model = fee.token.balance(fee.address)
        if got != model or model != sum(fee.balances.values()):
            problems.append(f"{name} balance: chain {got}, model {model}")
        fees[name] = {"address": fee.address, "token": fee.token.key, "balance": str(got)}
    head = int(rpc.call("eth_blockNumber"), 16)
    if head != w.sender.head:
        problems.append(f"head block: chain {head}, model {w.sender.head}")
    logs = _count_logs(rpc, head)
    if logs != w.sender.logs_emitted:
        problems.append(f"log count: chain {logs}, model {w.sender.logs_emitted}")
    if problems:
        raise DevnetError(f"replay on {w.name} does not match its bookkeeping: {problems}")
    return {
        "chain_id": w.sender.chain_id,
        "head_block": head,
        "token_total_supply": supplies,
        "escrow_balances": escrows,
        "service_fee_balances": fees,
        "logs_on_chain": logs,
    }


def _count_logs(rpc: Rpc, head: int, step: int = 2_000) -> int:
    total = 0
    for lo in range(0, head + 1, step):
        hi = min(head, lo + step - 1)
        total += len(rpc.call("eth_getLogs", {"fromBlock": hex(lo), "toBlock": hex(hi)}))
    return total


# --- up / down / status ----------------------------------------------------------------------


def _say_nothing(_msg: str) -> None:
    return None


def devnet_up(
    config_path: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    seed: int = 7,
    scale: float = 1.0,
    use_cache: bool = True,
    *,
    write_addresses: bool = False,
    reuse_running: bool = False,
    keep_history: bool = True,
    log: Log | None = None,
) -> DevnetState:
    """Start one anvil per configured chain, deploy, replay 2025 (or load it from the cache).

    With `reuse_running`, a devnet already running from `data_dir` with the same history
    (same cache key: config, seed, scale, code) is returned as it is instead of refused.

    `keep_history=False` caches only each chain's latest state (anvil_dumpState) and keeps the
    replayed chains running instead of restarting them from their dumps. For big chains (the
    bench): anvil's dump with every block's state grows with blocks x state (over 11 GB for
    the bench chain) and stalls the node while it writes. A chain restored from such a cache
    cannot answer eth_call at past blocks, so the audit cannot reconcile on it; the run that
    replayed can.

    Kept whole (about 100 lines) on purpose: it reads as the order a devnet comes up in
    (check the config, refuse or reuse a running one, claim the ports, restore or replay, write
    the state); each step that is more than a few lines is a helper below (_running_devnet,
    _restore, _replay_chains), and most of the length is the DevnetState it records.
    """
    say = log or _say_nothing
    t_start = time.monotonic()
    cfg_path = Path(config_path).resolve()
    if scale <= 0:
        raise DevnetError(f"--scale must be positive, got {scale}")
    if write_addresses:
        write_config_addresses(cfg_path)
        say(f"filled contract addresses into {cfg_path}")
    config = load_config(cfg_path)
    unknown = sorted(set(config.chains) - {s.chain for s in DEPLOY_PLAN})
    if unknown:
        raise DevnetError(f"the devnet simulator does not know chains {unknown}")
    addresses = check_config_addresses(config, cfg_path)
    ddir = Path(data_dir).resolve()
    ddir.mkdir(parents=True, exist_ok=True)
    key = cache_key(cfg_path, seed, scale, keep_history)
    running = _running_devnet(ddir, key if reuse_running else None)
    if running is not None:
        say(f"reusing the devnet already running from {ddir}")
        return running

    urls = {name: c.rpc_url() for name, c in config.chains.items()}
    ports = {name: local_port(urls[name], name) for name in config.chains}
    for name, chain in config.chains.items():
        check_port_free(ports[name], name, chain.chain_id, urls[name])
    chains = _Chains(config, ddir, urls, ports, say)
    cdir = ddir / "cache" / key
    cached = use_cache and (cdir / "meta.json").exists()
    try:
        if cached:
            heads, events = _restore(chains, cdir)
        else:
            heads, events = _replay_chains(
                chains, addresses, cdir if use_cache else None, seed, scale, keep_history
            )
    except BaseException:
        chains.stop_all()
        raise

    state = DevnetState(
        data_dir=str(ddir),
        config_path=str(cfg_path),
        seed=seed,
        scale=scale,
        cache_key=key,
        source="cache" if cached else "replay",
        chains={
            name: ChainState(
                name=name,
                chain_id=chain.chain_id,
                rpc_url=urls[name],
                port=ports[name],
                pid=chains.pids[name][0],
                log_file=str(chains.pids[name][1]),
                head_block=heads[name]["number"],
                head_hash=heads[name]["hash"],
                finality_depth=chain.finality_depth,
            )
            for name, chain in config.chains.items()
        },
        addresses=addresses,
        ledger_path=str(ddir / LEDGER_FILE),
        summary_path=str(ddir / SUMMARY_FILE),
        events=events,
        elapsed_seconds=round(time.monotonic() - t_start, 2),
    )
    # The stand-ins' simulated "reported" figures, derived from this ledger (devnet/reported.py)
    write_reported_figures(
        simulated_figures(read_ledger(ddir / LEDGER_FILE),
                          {name: t.decimals for name, t in config.tokens.items()}),
        ddir / REPORTED_FILE,
    )
    write_json(state.to_json(), ddir / STATE_FILE)
    return state


def _running_devnet(ddir: Path, reuse_key: str | None) -> DevnetState | None:
    """The devnet already running from `ddir` if it may be reused (same cache key, every
    chain alive); refused if one runs that may not; None if none runs."""
    old = _read_state(ddir)
    if old is None or not old.running or not any(pid_alive(c.pid) for c in old.chains.values()):
        return None
    if (
        reuse_key is not None
        and old.cache_key == reuse_key
        and all(pid_alive(c.pid) for c in old.chains.values())
    ):
        return old
    raise DevnetError(f"a devnet from {ddir} is already running; run `depinrev devnet down` first")


@dataclass
class _Chains:
    """The anvil processes of one devnet being brought up."""

    config: Config
    ddir: Path
    urls: dict[str, str]
    ports: dict[str, int]
    say: Log
    pids: dict[str, tuple[int, Path]] = field(default_factory=dict)

    def start(self, name: str, load: Path | None = None, dump: Path | None = None) -> None:
        chain = self.config.chains[name]
        self.pids[name] = start_anvil(
            name, self.ports[name], chain.chain_id, self.ddir, load, dump
        )
        self.say(
            f"started anvil for {name} (chain {chain.chain_id}) on {self.urls[name]}, "
            f"pid {self.pids[name][0]}" + (" from cache" if load is not None else "")
        )

    def stop_all(self) -> None:
        for pid, _ in self.pids.values():
            stop_pid(pid)


def _restore(chains: _Chains, cdir: Path) -> tuple[dict[str, Any], int]:
    """Start every chain from its cached state; heads checked against the cache's record."""
    for name in chains.config.chains:
        chains.start(name, load=cdir / f"{name}.json")
    meta = json.loads((cdir / "meta.json").read_text())
    for name in chains.config.chains:
        _check_head(name, chains.urls[name], meta["heads"][name])
    shutil.copyfile(cdir / LEDGER_FILE, chains.ddir / LEDGER_FILE)
    shutil.copyfile(cdir / SUMMARY_FILE, chains.ddir / SUMMARY_FILE)
    return meta["heads"], int(meta["events"])


def _replay_chains(
    chains: _Chains,
    addresses: dict[str, str],
    cdir: Path | None,
    seed: int,
    scale: float,
    keep_history: bool,
) -> tuple[dict[str, Any], int]:
    """Start fresh chains, replay the year into them, write the ledger; with a cache
    directory, cache the chains (and, keeping history, restart them from their dumps)."""
    config, ddir, say = chains.config, chains.ddir, chains.say
    if cdir is not None:
        cdir.mkdir(parents=True, exist_ok=True)
    for name in config.chains:
        dump = cdir / f"{name}.dump.json" if cdir is not None and keep_history else None
        chains.start(name, dump=dump)
    say(f"replaying 2025 with seed {seed}, scale {scale}")
    rows, expected, deployed = _replay(config, chains.urls, seed, scale, say)
    if deployed != {k: addresses[k] for k in deployed}:
        raise DevnetError(f"deployed addresses {deployed} differ from {addresses}")
    events = write_ledger(rows, ddir / LEDGER_FILE)
    summary = summarize(rows)
    summary.update(seed=seed, scale=scale, events=events, chains=expected)
    write_json(summary, ddir / SUMMARY_FILE)
    heads: dict[str, Any] = {}
    for name in config.chains:
        with Rpc(chains.urls[name]) as rpc:
            blk = rpc.call("eth_getBlockByNumber", "latest", False)
            heads[name] = {"number": int(blk["number"], 16), "hash": blk["hash"]}
    if cdir is None:
        return heads, events
    if not keep_history:
        for name in config.chains:
            dump_latest_state(chains.urls[name], cdir / f"{name}.json")
    else:
        # Restart each chain from its own dump: the cache is then proven to restore the
        # same chain (head hash checked) before it is trusted by a later `up`.
        for name in config.chains:
            dump = cdir / f"{name}.dump.json"
            stop_dumping(chains.pids[name][0], dump)
            dump.replace(cdir / f"{name}.json")
            chains.start(name, load=cdir / f"{name}.json")
            _check_head(name, chains.urls[name], heads[name])
    shutil.copyfile(ddir / LEDGER_FILE, cdir / LEDGER_FILE)
    shutil.copyfile(ddir / SUMMARY_FILE, cdir / SUMMARY_FILE)
    # meta.json last: its presence marks a complete cache entry.
    write_json(
        {"heads": heads, "events": events, "seed": seed, "scale": scale}, cdir / "meta.json"
    )
    say(f"cached the chains in {cdir}")
    return heads, events


def _check_head(name: str, url: str, head: dict[str, Any]) -> None:
    with Rpc(url) as rpc:
        blk = rpc.call("eth_getBlockByNumber", hex(head["number"]), False)
        latest = int(rpc.call("eth_blockNumber"), 16)
    if blk is None or blk["hash"] != head["hash"] or latest != head["number"]:
        raise DevnetError(
            f"cached chain {name} did not restore: expected head {head['number']} "
            f"{head['hash']}, node has {latest} / {blk and blk['hash']}; rerun with --no-cache"
        )


def _read_state(data_dir: Path) -> DevnetState | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        return DevnetState.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError) as exc:
        raise DevnetError(f"{path} is not a devnet state file: {exc}") from exc


def read_state(data_dir: str | os.PathLike[str]) -> DevnetState | None:
    return _read_state(Path(data_dir).resolve())


def devnet_down(data_dir: str | os.PathLike[str], log: Log | None = None) -> list[str]:
    """Stop the nodes recorded in data_dir/state.json; safe to call again. Returns what stopped."""
    say = log or _say_nothing
    ddir = Path(data_dir).resolve()
    state = _read_state(ddir)
    stopped: list[str] = []
    if state is None:
        say(f"no devnet state in {ddir}: nothing to stop")
        return stopped
    for name, c in state.chains.items():
        if c.pid is not None and stop_pid(c.pid):
            stopped.append(name)
            say(f"stopped {name} (pid {c.pid})")
        (ddir / f"anvil-{name}.pid").unlink(missing_ok=True)
    # the nodes' spilled block states (see start_anvil): the cache holds what a restart needs
    shutil.rmtree(ddir / "anvil-home", ignore_errors=True)
    state.running = False
    write_json(state.to_json(), ddir / STATE_FILE)
    return stopped


def devnet_status(data_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    state = read_state(data_dir)
    if state is None:
        return []
    rows: list[dict[str, Any]] = []
    for name, c in state.chains.items():
        alive = pid_alive(c.pid)
        head: int | None = None
        if alive:
            with contextlib.suppress(Exception), Rpc(c.rpc_url, timeout=3.0) as rpc:
                head = int(rpc.call("eth_blockNumber"), 16)
        rows.append(
            {
                "chain": name,
                "pid": c.pid,
                "rpc_url": c.rpc_url,
                "chain_id": c.chain_id,
                "head_block": head,
                "alive": alive,
            }
        )
    return rows


@contextlib.contextmanager
def running_devnet(
    config_path: str | os.PathLike[str],
    data_dir: str | os.PathLike[str],
    *,
    seed: int = 7,
    scale: float = 1.0,
    rpc_env: dict[str, str] | None = None,
    use_cache: bool = True,
) -> Iterator[DevnetState]:
    """A devnet for the duration of a with-block; `rpc_env` sets the chains' RPC variables
    (e.g. other ports than the demo) and is restored afterwards."""
    saved = {k: os.environ.get(k) for k in (rpc_env or {})}
    os.environ.update(rpc_env or {})
    try:
        state = devnet_up(config_path, data_dir, seed=seed, scale=scale, use_cache=use_cache)
        try:
            yield state
        finally:
            devnet_down(data_dir)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
