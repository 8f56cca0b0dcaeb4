"""Cold burst: 200 signed /dialer commands the moment a freshly started bot listens.

A burst right after a start is where Bolt's authorization hurts: until one auth.test has
answered, every request asks Slack again and its ack waits for the answer. The bot must
make exactly one auth.test per start and ack the whole burst fast. Each start is a fresh
`python -m bot serve`; the port is probed every 2 ms and the burst (all REQUESTS at once,
signed beforehand) goes out the moment it accepts. The baseline, started and hit the same
way in the same run, is a bare Bolt AsyncApp authorized once at start that only acks.
Starts alternate bare, bot, bare, bot ... The tests' fake Slack counts auth.test calls.

Goals: the slowest bot ack < 300 ms, and exactly one auth.test per bot start.

    python bench/cold_burst.py [--requests 200] [--starts 3]
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
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.harness import (  # noqa: E402
    HEADER,
    Server,
    Shots,
    Signed,
    StandIns,
    bare_server,
    bot_server,
    fire,
    listen_overflows,
    load_note,
    session,
    signed_commands,
    verdict,
)

GOAL_MAX_MS = 300.0


async def cold_start(
    server: Server, standins: StandIns, signed: list[Signed]
) -> tuple[Shots, int, float, int | None]:
    """Start `server`, fire the burst the moment it listens; returns the acks, the
    auth.test calls made by this start, when the last request went out (ms after the
    port first accepted a connection), and the connections the kernel dropped meanwhile."""
    before = (await standins.stats())["slack_api"].get("auth.test", 0)
    dropped = listen_overflows()
    await server.start()
    try:
        # A fresh session per start: no connection is reused from an earlier one.
        async with session(len(signed)) as http:
            listening = await server.wait_listening()
            shots = await fire(http, server.url + "/slack/events", signed, len(signed))
            if dropped is not None:
                dropped = (listen_overflows() or 0) - dropped
    finally:
        await server.stop()  # SIGTERM: the bot finishes in-flight commands first
    after = (await standins.stats())["slack_api"].get("auth.test", 0)
    return shots, after - before, (shots.last_sent - listening) * 1000, dropped


async def run(args: argparse.Namespace) -> int:
    print(load_note("before"))
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        workdir = Path(tmp)
        standins = StandIns(args.latency, workdir, args.campaigns)
        urls = await standins.start()
        base = urls["slack_base_url"]

        def burst(key: str) -> list[Signed]:
            n = args.requests
            return signed_commands(
                [f"campaign {i % args.campaigns + 1}" for i in range(n)],
                [f"{base}/response/{key}-{i}" for i in range(n)],
            )

        # Signed before any start, so nothing but sending happens once a port listens.
        plans = [(burst(f"bare{s}"), burst(f"bot{s}")) for s in range(args.starts)]
        bare_all, bot_all = Shots(), Shots()
        bare_auth: list[int] = []
        bot_auth: list[int] = []
        sent_ms: list[float] = []
        per_start: list[str] = []
        bot_errors: list[str] = []
        try:
            for s, (bare_plan, bot_plan) in enumerate(plans):
                bare = bare_server(urls["slack_api_url"], workdir)
                shots, auth, last, dropped = await cold_start(bare, standins, bare_plan)
                line = (
                    f"start {s + 1}: max ack bare {max(shots.latencies_ms, default=0):.0f} ms"
                    f" ({dropped} dropped)"
                )
                bare_all.extend(shots)
                bare_auth.append(auth)
                sent_ms.append(last)
                bot = bot_server(urls, workdir, DATABASE_PATH=str(workdir / f"bot{s}.db"))
                shots, auth, last, dropped = await cold_start(bot, standins, bot_plan)
                per_start.append(
                    f"{line}, bot {max(shots.latencies_ms, default=0):.0f} ms ({dropped} dropped)"
                )
                bot_all.extend(shots)
                bot_auth.append(auth)
                sent_ms.append(last)
                bot_errors += bot.error_lines()
            stats = await standins.stats()
        finally:
            await standins.stop()

    print(load_note("after"))
    print()
    print(
        f"cold burst: {args.starts} fresh starts per server, alternating; {args.requests} "
        f"signed '/dialer campaign <1..{args.campaigns}>' all at once the moment each "
        f"listened (the last sent at most {max(sent_ms):.0f} ms after); "
        f"dialer latency {args.latency:g} s"
    )
    print(HEADER)
    print(bare_all.row("bare"))
    print(bot_all.row("bot"))
    print("\n".join(per_start))
    print(
        "  (dropped: connections Linux refused because the listen queue was full, counted "
        "system-wide; the client sends such a SYN again after 1 s)"
    )
    print(f"auth.test calls per start: bare {bare_auth}, bot {bot_auth}")
    bot_max = max(bot_all.latencies_ms, default=float("inf"))
    bare_max = max(bare_all.latencies_ms, default=float("inf"))
    max_ok = bot_max < GOAL_MAX_MS and len(bot_all.latencies_ms) == args.requests * args.starts
    auth_ok = all(n == 1 for n in bot_auth)
    print(
        f"goal slowest bot ack < {GOAL_MAX_MS:g} ms: {verdict(max_ok)} "
        f"({bot_max:.1f} ms; bare {bare_max:.1f} ms)"
    )
    print(f"goal exactly one auth.test per bot start: {verdict(auth_ok)} ({bot_auth})")

    replies = {k: v for k, v in stats["replies"].items() if k.startswith("bot")}
    failed = [f for f in stats["failed"] if f.startswith("bot")]
    errors = bare_all.errors + bot_all.errors
    expected = args.requests * args.starts
    sound = len(replies) == expected and not failed and not errors and not bot_errors
    print(
        f"check: {len(replies)}/{expected} bot commands answered via response_url, "
        f"{len(failed)} error replies, {len(errors)} request errors, "
        f"{len(bot_errors)} ERROR lines in the bot's logs: {verdict(sound)}"
    )
    for line in (failed + errors + bot_errors)[:5]:
        print(f"  {line[:200]}")
    return 0 if max_ok and auth_ok and sound else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=200, help="commands in each burst")
    p.add_argument("--starts", type=int, default=3, help="fresh starts per server")
    p.add_argument("--latency", type=float, default=0.2, help="dialer answer delay, seconds")
    p.add_argument("--campaigns", type=int, default=50, help="campaign ids asked about, in turn")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
