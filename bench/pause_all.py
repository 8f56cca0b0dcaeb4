"""Benchmark: the emergency stop pauses 100 running campaigns within 5 s (issue 14).

    PYTHONPATH=. python bench/pause_all.py [--campaigns 100] [--runs 5] [--latency 0.05]

The bot is built as `dialer-bot serve` builds it and driven the way Slack does: a signed
`/dialer pause all`, then a signed click on its Confirm button. The dialer is the simulator
(optionally answering every request after `--latency` seconds, like a remote API), Slack
the tests' fake. Each run times from the Confirm click to the summary reaching the
response_url, checks every campaign is paused and each pause was sent exactly once, then
sets the campaigns running again. All in one process on one event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.server import SimulatorConfig, start_simulator  # noqa: E402
from tests.conftest import start_bot, stop_bot  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402


async def main(count: int, runs: int, latency: float) -> int:
    sim = await start_simulator(
        SimulatorConfig(port=0, username="demo@example.com", password="demo", seed=True)
    )
    fake = await FakeSlack.start()
    tmp = tempfile.TemporaryDirectory()
    bot = await start_bot(sim, fake, Path(tmp.name) / "bench.db")
    template = {k: v for k, v in sim.state.campaigns[1].items() if k not in ("id", "state")}
    ids = [
        sim.state.add_campaign({**template, "name": f"Bench {i}"}, state="running")["id"]
        for i in range(count)
    ]
    if latency:
        sim.faults.set(latency=latency)
    timings: list[float] = []
    ok = True
    try:
        for run in range(runs):
            for cid in ids:
                sim.state.campaigns[cid]["state"] = "running"
            sim.requests.clear()
            key = f"run{run}"
            await bot.command("pause all", response_url=fake.response_url(key))
            await bot.settle()
            confirm = [c for c in bot.replies(key) if FakeSlack.buttons(c, "pause_all:confirm")]
            token = FakeSlack.button_values(confirm[-1], "pause_all:confirm")[0]
            click_key = f"click{run}"
            started = time.perf_counter()
            await bot.action("pause_all:confirm", token, response_url=fake.response_url(click_key))
            await fake.wait_for(
                "response_url",
                lambda c, k=click_key: c.args.get("key") == k and "paused" in c.args["text"],
                timeout=60,
            )
            elapsed = time.perf_counter() - started
            await bot.settle()
            paused = sum(sim.state.campaigns[c]["state"] == "paused" for c in ids)
            puts = [r for r in sim.requests if r["path"].endswith("/control")]
            once = len(puts) == count and len({r["path"] for r in puts}) == count
            ok = ok and paused == count and once
            timings.append(elapsed)
            print(
                f"run {run + 1}: {paused}/{count} paused in {elapsed:.2f} s, "
                f"{len(puts)} pause requests ({'each once' if once else 'NOT each once'})"
            )
    finally:
        await stop_bot(bot)
        await fake.stop()
        await sim.stop()
        tmp.cleanup()
    print(
        f"\n{count} campaigns, dialer latency {latency * 1000:.0f} ms: median "
        f"{statistics.median(timings):.2f} s, max {max(timings):.2f} s over {runs} runs "
        f"(goal: 5 s) — {'ok' if ok and max(timings) < 5 else 'NOT MET'}"
    )
    return 0 if ok and max(timings) < 5 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--campaigns", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per dialer request")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.campaigns, args.runs, args.latency)))
