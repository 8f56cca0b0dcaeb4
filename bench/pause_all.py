"""Pause-all: 1,000 running campaigns, the dialer answering each pause after 200 ms.

Pause-all sends at most PAUSE_ALL_CONCURRENCY pauses at once, so it cannot finish before
ceil(campaigns / concurrency) x latency: that is the bound it sets itself. The bot runs as
`python -m bot serve` with PAUSE_ALL_CONCURRENCY in its environment (the campaign watcher
off, so only pause-all talks to the dialer) and is driven the way Slack drives it: a signed
`/dialer pause all`, then a signed click on its Confirm button; the time runs from the click
to the summary reaching the response_url. The dialer is the simulator, in this process,
slowed on per-campaign paths only (the campaign list is read before the click). The
baseline, measured first in the same run: the same pauses sent straight to the simulator
with the same concurrency, no bot in between.

Goal: the bot's time within 1.1 x the bound.

    python bench/pause_all.py [--campaigns 1000] [--latency 0.2] [--concurrency N]
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
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from bench.harness import (  # noqa: E402
    ADMIN,
    DIALER_PASSWORD,
    DIALER_USER,
    SIGNING_SECRET,
    bot_server,
    load_note,
    verdict,
)
from simulator.server import SimulatorConfig, start_simulator  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_driver import SlackDriver  # noqa: E402

GOAL_RATIO = 1.1
CONFIRM = "pause_all:confirm"


def default_concurrency() -> int:
    """The bot's own default, so a bare `python bench/pause_all.py` measures what ships."""
    from bot.config import Settings

    return int(Settings.model_fields["pause_all_concurrency"].default)


def controls(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.requests if r["method"] == "PUT" and r["path"].endswith("/control")]


def peak_in_flight(arrivals: list[float], latency: float) -> int:
    """Most pauses at the dialer at once: each is held `latency` s from its arrival."""
    arrivals = sorted(arrivals)
    peak, lo = 0, 0
    for hi, t in enumerate(arrivals):
        while arrivals[lo] <= t - latency:
            lo += 1
        peak = max(peak, hi - lo + 1)
    return peak


async def direct(sim: Any, ids: list[int], concurrency: int) -> float:
    """The baseline: the same pauses straight to the simulator, `concurrency` at once."""
    async with aiohttp.ClientSession() as http:
        form = {
            "client_id": "api",
            "grant_type": "password",
            "username": DIALER_USER,
            "password": DIALER_PASSWORD,
        }
        async with http.post(sim.auth_url, data=form) as resp:
            token = (await resp.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        gate = asyncio.Semaphore(concurrency)

        async def pause(cid: int) -> None:
            async with gate:
                url = f"{sim.url}/dialer/campaigns/{cid}/control"
                async with http.put(url, json={"command": "pause"}, headers=headers) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"direct pause of #{cid}: HTTP {resp.status}")

        started = time.perf_counter()
        await asyncio.gather(*(pause(cid) for cid in ids))
        return time.perf_counter() - started


async def through_bot(sim: Any, fake: FakeSlack, bot_url: str, timeout: float) -> tuple[float, str]:
    """`/dialer pause all`, then Confirm; seconds from the click to the summary, and its text."""
    async with SlackDriver(bot_url, SIGNING_SECRET, response_url=fake.response_url("ask")) as d:
        await d.command("pause all", user_id=ADMIN, response_url=fake.response_url("ask"))
        asked = await fake.wait_for(
            "response_url",
            lambda c: c.args.get("key") == "ask" and bool(FakeSlack.buttons(c, CONFIRM)),
            timeout=60,
        )
        token = FakeSlack.button_values(asked[-1], CONFIRM)[0]
        click = fake.response_url("click")
        started = time.perf_counter()
        await d.action(CONFIRM, token, user_id=ADMIN, response_url=click)
        done = await fake.wait_for(
            "response_url",
            lambda c: c.args.get("key") == "click" and "paused" in FakeSlack.texts(c),
            timeout=timeout,
        )
        return time.perf_counter() - started, FakeSlack.texts(done[-1])


async def run(args: argparse.Namespace) -> int:
    concurrency = args.concurrency or default_concurrency()
    print(load_note("before"))
    sim = await start_simulator(
        SimulatorConfig(port=0, username=DIALER_USER, password=DIALER_PASSWORD, seed=True)
    )
    fake = await FakeSlack.start()
    template = {k: v for k, v in sim.state.campaigns[1].items() if k not in ("id", "state")}
    ids = [
        sim.state.add_campaign({**template, "name": f"Bench {i}"}, state="running")["id"]
        for i in range(args.campaigns)
    ]
    running = [c for c in sim.state.campaigns.values() if c["state"] == "running"]
    n = len(running)
    bound = math.ceil(n / concurrency) * args.latency
    # Per-campaign paths only ("/dialer/campaigns/…"): the list stays fast.
    sim.faults.set(latency=args.latency, path_prefix="/dialer/campaigns/")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pause-") as tmp:
            workdir = Path(tmp)
            bot = bot_server(
                {
                    "sim_url": sim.url,
                    "sim_auth_url": sim.auth_url,
                    "slack_api_url": fake.api_url,
                },
                workdir,
                PAUSE_ALL_CONCURRENCY=str(concurrency),
                DIALER_WATCH_INTERVAL="0",
            )
            base_s = await direct(sim, [int(c["id"]) for c in running], concurrency)
            for c in running:
                c["state"] = "running"
            await bot.start()
            try:
                await bot.wait_healthy()
                sim.requests.clear()
                elapsed, summary = await through_bot(sim, fake, bot.url, bound * 3 + 30)
            finally:
                await bot.stop()
            bot_errors = bot.error_lines()
        puts = controls(sim)
        arrivals = [r["ts"] for r in puts]
        paused = sum(sim.state.campaigns[c]["state"] == "paused" for c in ids)
        once = len(puts) == n and len({r["path"] for r in puts}) == n
    finally:
        await fake.stop()
        await sim.stop()

    print(load_note("after"))
    print()
    print(
        f"pause-all: {n} running campaigns, dialer latency {args.latency * 1000:.0f} ms per "
        f"pause, concurrency {concurrency}"
    )
    print(f"bound ceil({n}/{concurrency}) x {args.latency:g} s = {bound:.2f} s")
    print(f"baseline, straight to the simulator: {base_s:.2f} s ({base_s / bound:.2f}x bound)")
    span = max(arrivals) - min(arrivals) + args.latency if arrivals else float("nan")
    print(
        f"bot: {elapsed:.2f} s from Confirm to the summary ({elapsed / bound:.3f}x bound); "
        f"the dialer busy {span:.2f} s, at most {peak_in_flight(arrivals, args.latency)} "
        f"pauses at once"
    )
    ratio = elapsed / bound
    ok = ratio <= GOAL_RATIO
    print(f"goal bot within {GOAL_RATIO:g} x bound: {verdict(ok)} ({ratio:.3f}x)")
    sound = paused == len(ids) and once and not bot_errors
    print(
        f"check: {paused}/{len(ids)} paused, {len(puts)} pause requests "
        f"({'each once' if once else 'NOT each once'}), {len(bot_errors)} ERROR lines in the "
        f"bot's log: {verdict(sound)}"
    )
    print(f"  summary: {summary.splitlines()[0][:160] if summary else '(none)'}")
    for line in bot_errors[:5]:
        print(f"  {line[:200]}")
    return 0 if ok and sound else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--campaigns", type=int, default=1000, help="running campaigns to pause")
    p.add_argument("--latency", type=float, default=0.2, help="dialer delay per pause, seconds")
    p.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="PAUSE_ALL_CONCURRENCY for the bot (default: the bot's own default)",
    )
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
