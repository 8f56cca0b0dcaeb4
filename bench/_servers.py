"""Child processes for bench/ack_latency.py: the stand-ins, the bot, and a bare Bolt app.

Each runs its own event loop in its own process (pinned to a core when asked), so the
load generator measures the server and not a loop it shares. The parent talks to each
child over a multiprocessing Pipe: the child sends ("ready", info) once it listens,
then answers commands ("stats", "cpu", "prof_on", "prof_off", "stop") until told to stop.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import logging
import os
import pstats
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from aiohttp import web

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-token"
ADMIN = "UBENCH"
REPLY_FAILED = (":warning:", ":no_entry:")

Command = Callable[[str], Awaitable[Any]]


def pin(core: int | None) -> str:
    """Pin this process to one core; returns what was done, for the report."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    try:
        os.sched_setaffinity(0, {core})
    except OSError as exc:
        return f"not pinned ({exc.strerror})"
    return f"core {core}"


def _log_to(path: str | None) -> None:
    """Configure logging as `dialer-bot serve` does (INFO), but into a file, not the terminal.

    INFO matters: aiohttp's access log is formatted only when INFO is enabled, so a
    benchmark without it would skip work the deployed bot does on every request.
    """
    if path is None:
        return
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=path,
        force=True,
    )


async def _serve_commands(conn: Connection, handle: Command) -> None:
    """Answer the parent's commands until "stop"; recv blocks, so it runs in a thread."""
    loop = asyncio.get_running_loop()
    profiler: cProfile.Profile | None = None
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd == "stop":
            return
        if cmd == "cpu":  # every thread's CPU time so far: what the core spent on this server
            conn.send(time.process_time())
        elif cmd == "prof_on":
            profiler = cProfile.Profile()
            profiler.enable()
            conn.send("ok")
        elif cmd == "prof_off":
            conn.send(_profile_report(profiler))
            profiler = None
        else:
            conn.send(await handle(cmd))


def _profile_report(profiler: cProfile.Profile | None, top: int = 30) -> str:
    if profiler is None:
        return "profiler was not running"
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


async def _unknown(cmd: str) -> Any:
    return {"error": f"unknown command {cmd!r}"}


def metric_value(metrics_text: str, name: str) -> float | None:
    """One unlabelled sample of the bot's /metrics (e.g. dialer_bot_python_heap_blocks)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            if s.name == name and not s.labels:
                return s.value
    return None


def loop_report(metrics_text: str) -> list[str]:
    """What held the bot's loop over the whole run, from its own /metrics: the loop-lag
    ticker, the collector's pauses by generation, and the full passes bot/collector.py
    made when quiet or forced."""
    from prometheus_client.parser import text_string_to_metric_families

    buckets: dict[tuple[str, str], list[tuple[float, float]]] = {}
    sums: dict[tuple[str, str], float] = {}
    passes: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "dialer_bot_gc_full_passes":
            passes = {
                s.labels["when"]: s.value for s in family.samples if s.name.endswith("_total")
            }
        if family.name not in ("dialer_bot_event_loop_lag_seconds", "dialer_bot_gc_pause_seconds"):
            continue
        for s in family.samples:
            key = (family.name, s.labels.get("generation", ""))
            if s.name.endswith("_bucket"):
                buckets.setdefault(key, []).append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_sum"):
                sums[key] = s.value
    lines = []
    for (name, gen), cumulative in sorted(buckets.items()):
        cumulative.sort()
        total = cumulative[-1][1]
        over = [
            f">{le * 1000:g} ms: {total - count:.0f}"
            for le, count in cumulative
            if le in (0.01, 0.05, 0.1) and total - count
        ]
        what = "loop lag ticks" if gen == "" else f"GC gen{gen} pauses"
        lines.append(
            f"  {what}: {total:.0f}, {sums.get((name, gen), 0) * 1000:.0f} ms in all; "
            + (", ".join(over) or "none over 10 ms")
        )
    if passes:
        lines.append(
            "  full GC passes the bot made: "
            + ", ".join(f"{when} {n:.0f}" for when, n in sorted(passes.items()))
        )
    return lines


# ---------------------------------------------------------------------------- stand-ins


def run_standins(conn: Connection, latency: float, core: int | None) -> None:
    """The dialer simulator (answering after `latency` s) and a fake Slack Web API."""
    where = pin(core)
    asyncio.run(_standins(conn, latency, where))


async def _standins(conn: Connection, latency: float, where: str) -> None:
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
    sim.faults.set(latency=latency)  # /token is exempt: only API calls are slow
    fake = await FakeSlack.start()
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
            return _standin_stats(sim, fake)
        return await _unknown(cmd)

    try:
        await _serve_commands(conn, handle)
    finally:
        await fake.stop()
        await sim.stop()


def _standin_stats(sim: Any, fake: Any) -> dict[str, Any]:
    """Replies per response_url key, failed replies, and what the dialer was asked."""
    replies: dict[str, int] = {}
    failed: list[str] = []
    for call in fake.calls_to("response_url"):
        key = call.args.get("key", "")
        replies[key] = replies.get(key, 0) + 1
        text = str(call.args.get("text", ""))
        if text.startswith(REPLY_FAILED):
            failed.append(f"{key}: {text[:160]}")
    dialer: dict[str, int] = {}
    for req in sim.requests:
        label = f"{req['method']} {req['path']} -> {req['status']}"
        dialer[label] = dialer.get(label, 0) + 1
    other = {}
    for call in fake.calls:
        if call.method != "response_url":
            other[call.method] = other.get(call.method, 0) + 1
    return {"replies": replies, "failed": failed, "dialer": dialer, "slack_api": other}


# ---------------------------------------------------------------------------- the bot


def run_bot(conn: Connection, overrides: dict[str, Any], core: int | None, log: str) -> None:
    """The bot exactly as `dialer-bot serve` wires it (bot/cli.py _serve), on a free port."""
    where = pin(core)
    _log_to(log)
    asyncio.run(_bot(conn, overrides, where))


async def _bot(conn: Connection, overrides: dict[str, Any], where: str) -> None:
    from bot.app import start_http, stop_http
    from bot.config import load_settings
    from bot.lifecycle import startup
    from bot.services import Services

    settings = load_settings(_env_file=None, **overrides)
    services = Services.build(settings)
    await startup(services)
    runner, port = await start_http(services, "127.0.0.1", 0)
    conn.send(("ready", {"port": port, "pinned": where}))
    try:
        await _serve_commands(conn, _unknown)
    finally:
        await stop_http(runner, services)  # as `dialer-bot serve` stops


# ---------------------------------------------------------------------------- bare Bolt


def run_bare(conn: Connection, slack_api_url: str, core: int | None, log: str) -> None:
    """The floor for comparison: Bolt with the bot's options and a listener that only acks."""
    where = pin(core)
    _log_to(log)
    asyncio.run(_bare(conn, slack_api_url, where))


async def _bare(conn: Connection, slack_api_url: str, where: str) -> None:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    # Same token and Web API stand-in as the bot, so Bolt's auth.test happens here too.
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack_api_url, timeout=10),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    @app.command("/dialer")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "in_flight": 0})

    web_app = web.Application()
    web_app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
    from bot.app import ACCESS_LOG_FORMAT

    runner = web.AppRunner(web_app, access_log_format=ACCESS_LOG_FORMAT)  # as the bot logs
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(("ready", {"port": int(runner.addresses[0][1]), "pinned": where}))
    try:
        await _serve_commands(conn, _unknown)
    finally:
        await runner.cleanup()
