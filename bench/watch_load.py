"""Does the campaign watcher delay acks? The ack benchmark's load, watcher off vs at 1 s.

The stand-ins serve 500 campaigns; a churn task changes one campaign's state every 0.5 s,
so every poll is a full 200 answer parsed and diffed (the worst case: with nothing
changing the dialer's ETag makes a poll a 304). The load is bench/ack_latency.py's:
signed slash commands, 50 in flight, against a dialer answering the command's GET after
2 s (`/dialer ivr`, so that the slow path is not the one the watcher polls). The bot runs
as `dialer-bot serve` builds it, once with DIALER_WATCH_INTERVAL=0 and once with 1.
Then the poll's own cost: loop (CPU) time per poll, in this process, against the same
500 campaigns.

    python bench/watch_load.py [--requests 5000] [--campaigns 500] [--no-churn]
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [ROOT] + [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.join(ROOT, "bench")
]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from bench import _servers  # noqa: E402
from bench.ack_latency import Child, cores, load_note, measure, row, wait_idle  # noqa: E402

GOAL_RATIO = 1.10


def run_standins(conn: Connection, campaigns: int, churn: bool, core: int | None) -> None:
    where = _servers.pin(core)
    asyncio.run(_standins(conn, campaigns, churn, where))


async def _standins(conn: Connection, campaigns: int, churn: bool, where: str) -> None:
    from simulator.server import SimulatorConfig, start_simulator
    from tests.fake_slack import FakeSlack

    sim = await start_simulator(
        SimulatorConfig(
            host="127.0.0.1",
            port=0,
            username="demo@example.com",
            password="demo",
            token_lifetime=3000,
            seed=True,
        )
    )
    body = {k: v for k, v in sim.state.campaigns[1].items() if k not in ("id", "state")}
    for i in range(campaigns - len(sim.state.campaigns)):
        sim.state.add_campaign({**body, "name": f"Bench {i}"})
    sim.faults.set(latency=2.0, path_prefix="/ivr")  # the commands' GET is the slow one
    fake = await FakeSlack.start()

    async def churner() -> None:
        ids = sorted(sim.state.campaigns)
        n = 0
        while True:
            await asyncio.sleep(0.5)
            n += 1
            c = sim.state.campaigns[ids[n % len(ids)]]
            c["state"] = "paused" if c["state"] != "paused" else "running"

    task = asyncio.create_task(churner()) if churn else None
    conn.send(
        (
            "ready",
            {
                "sim_url": sim.url,
                "sim_auth_url": sim.auth_url,
                "slack_api_url": fake.api_url,
                "slack_base_url": fake.base_url,
                "pinned": where,
            },
        )
    )

    async def handle(cmd: str) -> Any:
        if cmd == "stats":
            return _servers._standin_stats(sim, fake)
        return await _servers._unknown(cmd)

    try:
        await _servers._serve_commands(conn, handle)
    finally:
        if task is not None:
            task.cancel()
        await fake.stop()
        await sim.stop()


async def poll_cost(si: dict[str, Any], db: Path, polls: int) -> list[float]:
    """CPU (= event-loop) ms of each of `polls` watcher polls, in this process."""
    from bot.config import load_settings
    from bot.services import Services
    from handlers.subscriptions.views import Views

    settings = load_settings(
        _env_file=None,
        slack_bot_token=_servers.BOT_TOKEN,
        slack_api_url=si["slack_api_url"],
        dialer_api_url=si["sim_url"],
        dialer_auth_url=si["sim_auth_url"],
        dialer_username="demo@example.com",
        dialer_password="demo",
        database_path=str(db),
        dialer_watch_interval=1.0,
    )
    services = Services.build(settings)
    services.watcher.views = Views()
    costs = []
    try:
        await services.watcher.poll_once()  # baseline, token
        for _ in range(polls):
            await asyncio.sleep(0.5)  # let the churn change something
            cpu = time.process_time()
            await services.watcher.poll_once()
            costs.append((time.process_time() - cpu) * 1000)
    finally:
        await services.aclose()
    return costs


async def main_async(args: argparse.Namespace) -> int:
    gen_core, server_core = cores()
    print(load_note("before"))
    tmp = Path(tempfile.mkdtemp(prefix="dialer-watch-bench-"))
    children: list[Child] = []
    results = {}
    args.command, args.profile = "ivr", False
    try:
        standin = Child("stand-ins", run_standins, args.campaigns, not args.no_churn, gen_core)
        children.append(standin)
        si = await standin.ready()
        print(f"stand-ins: {args.campaigns} campaigns, churn {'off' if args.no_churn else 'on'}")
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            for interval in (0.0, 1.0):
                overrides = {
                    "slack_bot_token": _servers.BOT_TOKEN,
                    "slack_signing_secret": _servers.SIGNING_SECRET,
                    "slack_api_url": si["slack_api_url"],
                    "dialer_api_url": si["sim_url"],
                    "dialer_auth_url": si["sim_auth_url"],
                    "dialer_username": "demo@example.com",
                    "dialer_password": "demo",
                    "dialer_admins": _servers.ADMIN,
                    "database_path": str(tmp / f"bench-{interval:g}.db"),
                    "dialer_watch_interval": interval,
                }
                name = f"w{interval:g}"
                log = str(tmp / f"{name}.log")
                bot = Child(name, _servers.run_bot, overrides, server_core, log)
                children.append(bot)
                info = await bot.ready()
                result, _ = await measure(bot, session, si, args, name, False)
                await wait_idle(session, f"http://127.0.0.1:{info['port']}", 120)
                bot.stop()
                results[interval] = result
        stats = await standin.ask("stats")
        costs = await poll_cost(si, tmp / "cost.db", args.polls)
    finally:
        for child in reversed(children):
            child.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(load_note("after"))
    print(f"/dialer ivr (dialer 2 s): {args.requests} requests, {args.concurrency} in flight")
    print(f"{'server':<6} {'requests':>8} {'concurrency':>11} {'p50 ms':>8} {'p99 ms':>8}")
    for r in results.values():
        print(row(r))
    ratio = results[1.0].pct(99) / results[0.0].pct(99)
    print(f"watcher at 1 s: p99 / p99 with the watcher off = {ratio:.2f} (goal <= {GOAL_RATIO})")
    polls = {k: v for k, v in stats["dialer"].items() if "/dialer/campaigns" in k}
    print(f"dialer saw: {polls}")
    print(
        f"poll cost ({args.campaigns} campaigns, full answer): loop time per poll "
        f"median {statistics.median(costs):.1f} ms, max {max(costs):.1f} ms over {len(costs)}"
    )
    return 0 if ratio <= GOAL_RATIO else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--campaigns", type=int, default=500)
    p.add_argument("--polls", type=int, default=20)
    p.add_argument("--no-churn", action="store_true", help="nothing changes: polls are 304s")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
