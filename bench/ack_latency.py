"""Ack latency of /dialer slash commands while the dialer is slow (issue: "ack within 3 s always").

Slack gives up on a slash command whose HTTP answer (the ack) takes more than 3 s, so the
bot acks first and talks to the dialer afterwards. This measures that under load: signed
slash commands, `concurrency` in flight, against a dialer simulator that answers after
`latency` s, timing request -> HTTP response. The same run measures a bare Bolt app that
only acks, so the result reads as "the bot's own overhead" on whatever machine runs it.

Layout (facts.md section 4): the stand-ins (dialer simulator + fake Slack Web API) and the
bot / bare app each run in their own process; servers are pinned to one core, the load
generator (one aiohttp.ClientSession - httpx would measure itself above ~10 connections)
and the stand-ins to another.

    python bench/ack_latency.py [--requests 1000] [--rounds 3] [--concurrency 50]
                                [--latency 2.0] [--command campaigns] [--profile]
"""

from __future__ import annotations

import os
import sys

# `python bench/ack_latency.py` puts bench/ first on sys.path, where a module may shadow the
# standard library (a bench module named like a stdlib one would shadow it): use the repo root.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [ROOT] + [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.join(ROOT, "bench")
]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from bench import _servers  # noqa: E402
from tests.slack_driver import sign, slash_command_body  # noqa: E402

GOAL_P99_MS = 100.0
GOAL_RATIO = 1.5
SLACK_DEADLINE_MS = 3000.0


@dataclass
class Result:
    name: str
    requests: int
    concurrency: int
    latencies_ms: list[float]
    wall_s: float
    errors: list[str] = field(default_factory=list)
    answered_in_ack: set[str] = field(default_factory=set)  # help, usage errors
    cpu_s: float = float("nan")  # the server's CPU time (all threads) while measured

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        # nearest rank: the smallest value with at least p % of the samples at or below it
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else float("nan")


class Child:
    """One server process and its command pipe."""

    def __init__(self, name: str, target: Any, *args: Any) -> None:
        ctx = mp.get_context("spawn")  # a fresh interpreter: no loop or sockets inherited
        self.name = name
        self.conn, child_conn = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=(child_conn, *args), name=name, daemon=True)
        self.proc.start()
        child_conn.close()
        self.info: dict[str, Any] = {}

    async def ready(self, timeout: float = 30.0) -> dict[str, Any]:
        msg = await self.ask(None, timeout)
        if not (isinstance(msg, tuple) and msg[0] == "ready"):
            raise RuntimeError(f"{self.name} did not start: {msg!r}")
        self.info = msg[1]
        return self.info

    async def ask(self, cmd: str | None, timeout: float = 30.0) -> Any:
        """Send `cmd` (None: just read) and wait for the answer without blocking the loop."""
        if cmd is not None:
            self.conn.send(cmd)
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, self.conn.poll, timeout):
            raise TimeoutError(f"{self.name} did not answer {cmd!r} within {timeout} s")
        try:
            return self.conn.recv()
        except EOFError:
            self.proc.join(1)
            raise RuntimeError(
                f"{self.name} exited (code {self.proc.exitcode}) before answering {cmd!r}; "
                "its traceback is above"
            ) from None

    def stop(self, timeout: float = 20.0) -> None:
        """Ask for a clean shutdown (drain, close); terminate only if that hangs."""
        if self.proc.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self.conn.send("stop")
            self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self.conn.close()


def cores() -> tuple[int | None, int | None]:
    """(load generator + stand-ins, server): two distinct cores when there are two."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return available[0], available[1]


async def fire(
    session: aiohttp.ClientSession,
    url: str,
    response_base: str,
    prefix: str,
    command: str,
    n: int,
    concurrency: int,
) -> Result:
    """n signed slash commands, at most `concurrency` in flight; time each to its response.

    Every body is built and signed before the first is sent. Built inside the run, the
    generator's work on the requests still waiting delayed its reading of the first
    answers, and those were the p99 of every run, bot and bare alike."""
    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors: list[str] = []
    in_ack: set[str] = set()
    ts = str(int(time.time()))  # a run lasts seconds; Slack allows five minutes of skew
    signed: list[tuple[bytes, dict[str, str]]] = []
    for i in range(n):
        body = slash_command_body(
            command,
            user_id=_servers.ADMIN,
            user_name="bench",
            response_url=f"{response_base}/response/{prefix}{i}",
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(_servers.SIGNING_SECRET, ts, body),
        }
        signed.append((body.encode(), headers))

    async def one(i: int) -> None:
        body, headers = signed[i]
        async with sem:
            start = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    answer = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(f"{prefix}{i}: {type(exc).__name__}: {exc}")
                return
            elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            errors.append(f"{prefix}{i}: HTTP {status}")
        else:
            latencies.append(elapsed)
            if answer.strip():
                in_ack.add(f"{prefix}{i}")

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - start
    return Result(prefix.rstrip("-"), n, concurrency, latencies, wall, errors, in_ack)


async def wait_idle(session: aiohttp.ClientSession, base: str, cap: float) -> tuple[bool, float]:
    """Poll the bot's /healthz until no post-ack task is in flight (or `cap` s pass)."""
    start = time.perf_counter()
    while time.perf_counter() - start < cap:
        async with session.get(base + "/healthz") as resp:
            if (await resp.json())["in_flight"] == 0:
                return True, time.perf_counter() - start
        await asyncio.sleep(0.1)  # polling another process; nothing here can be awaited
    return False, time.perf_counter() - start


async def measure(
    child: Child,
    session: aiohttp.ClientSession,
    standins: dict[str, Any],
    args: argparse.Namespace,
    name: str,
    profile: bool,
    key: str,
) -> tuple[Result, str | None]:
    """One round against one server: warm-up, then the timed requests; `key` prefixes
    each request's response_url, so its replies can be counted."""
    base = f"http://127.0.0.1:{child.info['port']}"
    url = base + "/slack/events"
    resp_base = standins["slack_base_url"]
    # Warm-up: first connections, Bolt's auth.test, the dialer token, lazy imports.
    warm = await fire(
        session, url, resp_base, f"{key}-warm-", args.command, args.warmup, args.concurrency
    )
    report = None
    if profile:
        await child.ask("prof_on")
    cpu_before = await child.ask("cpu")
    result = await fire(
        session, url, resp_base, f"{key}-", args.command, args.requests, args.concurrency
    )
    result.cpu_s = await child.ask("cpu") - cpu_before
    if profile:
        report = await child.ask("prof_off", timeout=300)
    result.name = name
    result.errors += warm.errors  # reported (and failing the run), not timed
    result.answered_in_ack |= warm.answered_in_ack
    return result, report


def pooled(name: str, rounds: list[Result]) -> Result:
    """Every round's requests as one sample: the goal is judged on all of them."""
    return Result(
        name,
        sum(r.requests for r in rounds),
        rounds[0].concurrency,
        [x for r in rounds for x in r.latencies_ms],
        sum(r.wall_s for r in rounds),
        [e for r in rounds for e in r.errors],
        {k for r in rounds for k in r.answered_in_ack},
        sum(r.cpu_s for r in rounds),
    )


def load_note(when: str) -> str:
    """Other processes on these cores inflate every figure; say how busy the machine was."""
    if not hasattr(os, "getloadavg"):
        return f"load average {when}: unknown"
    one = os.getloadavg()[0]
    n = os.cpu_count() or 1
    busy = f" - busy machine ({one:.1f} > {n} cores): figures are inflated" if one > n else ""
    return f"load average {when}: {one:.2f} over 1 min on {n} cores{busy}"


def log_errors(path: Path) -> list[str]:
    """ERROR lines the bot logged (its log lives in the temp dir, removed afterwards)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", errors="replace") as f:
        return [line.rstrip() for line in f if " ERROR " in line]


def row(r: Result) -> str:
    return (
        f"{r.name:<6} {r.requests:>8} {r.concurrency:>11} {r.pct(50):>8.1f} {r.pct(99):>8.1f} "
        f"{max(r.latencies_ms, default=float('nan')):>8.1f} {r.rps:>10.0f} {len(r.errors):>7} "
        f"{r.cpu_s / r.requests * 1e6:>11.0f}"
    )


async def main_async(args: argparse.Namespace) -> int:
    gen_core, server_core = cores()
    print(load_note("before"))
    print(f"load generator: {_servers.pin(gen_core)} (pid {os.getpid()}), one aiohttp session")
    tmp = Path(tempfile.mkdtemp(prefix="dialer-bench-"))
    children: list[Child] = []
    try:
        standin = Child("stand-ins", _servers.run_standins, args.latency, gen_core)
        children.append(standin)
        si = await standin.ready()
        print(
            f"stand-ins: dialer simulator {si['sim_url']} answering after {args.latency:g} s, "
            f"fake Slack {si['slack_base_url']}; {si['pinned']}"
        )
        overrides = {
            "slack_bot_token": _servers.BOT_TOKEN,
            "slack_signing_secret": _servers.SIGNING_SECRET,
            "slack_api_url": si["slack_api_url"],
            "dialer_api_url": si["sim_url"],
            "dialer_auth_url": si["sim_auth_url"],
            "dialer_username": "demo@example.com",
            "dialer_password": "demo",
            "dialer_admins": _servers.ADMIN,
            "database_path": str(tmp / "bench.db"),
        }
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            bare = Child(
                "bare", _servers.run_bare, si["slack_api_url"], server_core, str(tmp / "bare.log")
            )
            children.append(bare)
            info = await bare.ready()
            print(f"bare Bolt app: port {info['port']}; {info['pinned']}")
            bot = Child("bot", _servers.run_bot, overrides, server_core, str(tmp / "bot.log"))
            children.append(bot)
            bot_base = f"http://127.0.0.1:{(await bot.ready())['port']}"
            print(f"bot (as `dialer-bot serve`): {bot_base}; {bot.info['pinned']}")
            # Rounds alternate, bare then bot: the machine's speed drifts between runs
            # (the bare app's CPU per request has varied 440-730 us), and alternating
            # spreads that drift over both. The bot is idle during the bare app's rounds.
            bare_rounds, bot_rounds, prof = [], [], None
            idle, drain_s = True, 0.0
            for n in range(args.rounds):
                bare_rounds.append(
                    (await measure(bare, session, si, args, "bare", False, f"bare{n}"))[0]
                )
                result, report = await measure(
                    bot, session, si, args, "bot", args.profile and n == 0, f"bot{n}"
                )
                bot_rounds.append(result)
                prof = prof or report
                drained, took = await wait_idle(session, bot_base, args.drain_timeout)
                idle, drain_s = idle and drained, max(drain_s, took)
            async with session.get(bot_base + "/metrics") as resp:
                metrics_text = await resp.text()
            bare.stop()
            bot.stop()
        stats = await standin.ask("stats")
        bot_log_errors = log_errors(tmp / "bot.log")
    finally:
        for child in reversed(children):
            child.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(load_note("after"))
    print()
    print(
        f"/dialer {args.command}: {args.rounds} rounds of {args.requests} signed requests per "
        f"server, each after {args.warmup} warm-up, {args.concurrency} in flight"
    )
    print(
        f"{'server':<6} {'requests':>8} {'concurrency':>11} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'req/s':>10} {'errors':>7} {'CPU us/req':>11}"
    )
    for n, (bot_r, bare_r) in enumerate(zip(bot_rounds, bare_rounds, strict=True)):
        bot_r.name, bare_r.name = f"bot {n + 1}", f"bare {n + 1}"
        print(row(bot_r))
        print(row(bare_r))
    bot_result, bare_result = pooled("bot", bot_rounds), pooled("bare", bare_rounds)
    print(row(bot_result) + "  (all rounds)")
    print(row(bare_result) + "  (all rounds)")
    ratio = bot_result.pct(99) / bare_result.pct(99)
    p99_ok = bot_result.pct(99) < GOAL_P99_MS
    ratio_ok = ratio <= GOAL_RATIO
    bot_mean = statistics.fmean(bot_result.latencies_ms)
    bare_mean = statistics.fmean(bare_result.latencies_ms)
    print(f"bot p99 / bare p99 = {ratio:.2f}; mean bot {bot_mean:.1f} ms, bare {bare_mean:.1f} ms")
    print(f"goal p99 < {GOAL_P99_MS:g} ms: {'met' if p99_ok else 'MISSED'}")
    print(f"goal bot p99 <= {GOAL_RATIO:g} x bare p99: {'met' if ratio_ok else 'MISSED'}")
    slow = sum(1 for x in bot_result.latencies_ms if x >= SLACK_DEADLINE_MS)
    print(f"acks at or over Slack's 3 s deadline: {slow}")

    # Post-ack work: every bot request (warm-up included) not answered in its ack must
    # have been answered exactly once through its response_url.
    expected = {f"bot{n}-{i}" for n in range(args.rounds) for i in range(args.requests)}
    expected |= {f"bot{n}-warm-{i}" for n in range(args.rounds) for i in range(args.warmup)}
    expected -= bot_result.answered_in_ack
    replies = {k: v for k, v in stats["replies"].items() if k.startswith("bot")}
    answered = expected & replies.keys()
    doubled = sorted(k for k, v in replies.items() if v > 1)
    failed = [f for f in stats["failed"] if f.startswith("bot")]
    print()
    print(
        f"post-ack work: {'drained' if idle else 'NOT drained'} at most {drain_s:.1f} s after a "
        f"round's last ack (cap {args.drain_timeout:g} s); {len(answered)}/{len(expected)} "
        f"commands answered through response_url "
        f"({len(bot_result.answered_in_ack)} more in the ack itself), "
        f"{len(failed)} error replies, {len(doubled)} answered twice"
    )
    for label, count in sorted(stats["dialer"].items()):
        print(f"  dialer saw {count:>5} x {label}")
    for method, count in sorted(stats["slack_api"].items()):
        print(f"  Slack API saw {count:>5} x {method}")
    for line in failed[:5]:
        print(f"  failed reply {line}")
    all_errors = bot_result.errors + bare_result.errors
    for line in all_errors[:5]:
        print(f"  request error {line}")
    print("bot's event loop over the run (its /metrics):")
    for line in _servers.loop_report(metrics_text):
        print(line)
    print(f"bot log: {len(bot_log_errors)} ERROR lines")
    for line in bot_log_errors[:5]:
        print(f"  {line[:200]}")
    if prof:
        print("\nbot profile during the measured requests (cProfile, server process):")
        print(prof)

    ok = (
        p99_ok
        and ratio_ok
        and not all_errors
        and idle
        and len(answered) == len(expected)
        and not failed
        and not doubled
        and not bot_log_errors
    )
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=1000, help="measured requests per round")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    p.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    p.add_argument("--latency", type=float, default=2.0, help="dialer answer delay, seconds")
    p.add_argument("--command", default="campaigns", help="/dialer text, e.g. 'campaigns'")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured requests first")
    p.add_argument("--drain-timeout", type=float, default=120.0, help="cap on post-ack wait, s")
    p.add_argument("--profile", action="store_true", help="cProfile the bot while measured")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
