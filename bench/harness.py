"""What the bench scripts share: the bot, a bare Bolt app and the stand-ins as child
processes on 127.0.0.1, and a load generator that signs every request before the clock starts.

Each server runs in its own process with its own event loop, so the load generator times the
server, not a loop it shares with it. The bot is started the way a deployment starts it
(`python -m bot serve`, every setting in the environment), so the bench keeps working while
the runtime's insides change.

Run as a script it is one of the children:

    python bench/harness.py standins [--latency S] [--campaigns N]   # dialer + fake Slack
    python bench/harness.py bare --port P --slack-api-url URL   # Bolt that only acks
"""

from __future__ import annotations

import os
import sys

# `python bench/x.py` puts bench/ first on sys.path; the repository root is what we import from.
HERE = os.path.abspath(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:] = [ROOT] + [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.join(ROOT, "bench")
]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from tests.slack_driver import sign, slash_command_body  # noqa: E402

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-token"
ADMIN = "UBENCH"
NOTIFY = "CBENCH"
DIALER_USER = "demo@example.com"
DIALER_PASSWORD = "demo"
# A reply the bot sends when a command failed (bot and handlers answer with these emoji).
FAILED_REPLY = (":warning:", ":no_entry:", ":x:")


# ---------------------------------------------------------------------------- figures


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the samples at or below it."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def load_note(when: str) -> str:
    """Other processes on these cores inflate every figure; say how busy the machine was."""
    if not hasattr(os, "getloadavg"):
        return f"load average {when}: unknown"
    one = os.getloadavg()[0]
    n = os.cpu_count() or 1
    busy = f" - busy machine ({one:.1f} > {n} cores): figures are inflated" if one > n else ""
    return f"load average {when}: {one:.2f} over 1 min on {n} cores{busy}"


def listen_overflows() -> int | None:
    """Linux's count of connections dropped because a listen queue was full (system-wide).
    A dropped SYN is sent again only after a second, so each shows as a ~1 s ack."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=True))
            return int(row.get("ListenOverflows", 0))
    return None


# ---------------------------------------------------------------------------- load


@dataclass
class Shots:
    """What one batch of requests got back: ack latencies in ms, and what went wrong."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    first_sent: float = math.inf  # time.perf_counter when the first / last request went out
    last_sent: float = -math.inf

    def extend(self, other: Shots) -> None:
        self.latencies_ms += other.latencies_ms
        self.errors += other.errors
        self.wall_s += other.wall_s
        self.first_sent = min(self.first_sent, other.first_sent)
        self.last_sent = max(self.last_sent, other.last_sent)

    def row(self, name: str) -> str:
        lat = self.latencies_ms
        return (
            f"{name:<6} {len(lat):>8} {percentile(lat, 50):>8.1f} {percentile(lat, 99):>8.1f} "
            f"{max(lat, default=float('nan')):>8.1f} {len(self.errors):>7}"
        )


HEADER = f"{'server':<6} {'acked':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}"

Signed = tuple[bytes, dict[str, str]]


def signed_commands(texts: list[str], response_urls: list[str]) -> list[Signed]:
    """Slash commands as Slack sends them, signed now: building and signing inside the run
    delayed the generator's reading of the first answers, which then made every p99."""
    ts = str(int(time.time()))  # a run lasts seconds; Slack allows five minutes of skew
    out = []
    for text, url in zip(texts, response_urls, strict=True):
        body = slash_command_body(text, user_id=ADMIN, user_name="bench", response_url=url)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
        }
        out.append((body.encode(), headers))
    return out


def signed_form(body: str) -> Signed:
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SIGNING_SECRET, ts, body),
    }
    return body.encode(), headers


async def fire(
    session: aiohttp.ClientSession, url: str, signed: list[Signed], concurrency: int
) -> Shots:
    """POST every signed request, at most `concurrency` in flight; time each to its answer.

    One aiohttp session: httpx's client collapses above ~10 concurrent connections, so it
    would measure itself."""
    gate = asyncio.Semaphore(concurrency)
    shots = Shots()

    async def one(i: int) -> None:
        body, headers = signed[i]
        async with gate:
            start = time.perf_counter()
            shots.first_sent = min(shots.first_sent, start)
            shots.last_sent = max(shots.last_sent, start)
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                shots.errors.append(f"request {i}: {type(exc).__name__}: {exc}")
                return
            elapsed = (time.perf_counter() - start) * 1000
        if status == 200:
            shots.latencies_ms.append(elapsed)
        else:
            shots.errors.append(f"request {i}: HTTP {status}")

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(len(signed))))
    shots.wall_s = time.perf_counter() - start
    return shots


def session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=30),
        connector=aiohttp.TCPConnector(limit=connections),
    )


# ---------------------------------------------------------------------------- children


def free_port() -> int:
    """A port nobody listens on right now (the child binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One child process serving HTTP on 127.0.0.1:port; its output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230 - handed to the child
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=str(self.workdir),  # no stray .env is read
                env=self.env,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()

    def _check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")

    async def wait_listening(self, timeout: float = 30.0) -> float:
        """Return (time.perf_counter) the moment the port accepts a connection.

        A child that has not bound yet cannot be awaited on: probe every 2 ms."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not listening after {timeout}s") from None
                await asyncio.sleep(0.002)
                continue
            at = time.perf_counter()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return at

    async def wait_healthy(self, timeout: float = 30.0) -> None:
        await self.wait_listening(timeout)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as s:
            while True:
                self._check_alive()
                with contextlib.suppress(aiohttp.ClientError):
                    async with s.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not healthy after {timeout}s")
                await asyncio.sleep(0.05)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no output)"

    def error_lines(self) -> list[str]:
        """ERROR / Traceback lines the child logged."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [ln for ln in text.splitlines() if " ERROR " in ln or ln.startswith("Traceback")]

    async def stop(self) -> None:
        """SIGTERM (the bot drains and closes), SIGKILL if that hangs."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def bot_server(standins: dict[str, str], workdir: Path, **extra: str) -> Server:
    """The bot as a deployment runs it: `python -m bot serve`, settings in the environment."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": ROOT,
        "PYTHONUNBUFFERED": "1",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standins["slack_api_url"],
        "DIALER_API_URL": standins["sim_url"],
        "DIALER_AUTH_URL": standins["sim_auth_url"],
        "DIALER_USERNAME": DIALER_USER,
        "DIALER_PASSWORD": DIALER_PASSWORD,
        "DATABASE_PATH": str(workdir / "bot.db"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "NOTIFY_CHANNEL": NOTIFY,
        "DIALER_ADMINS": ADMIN,
        "LOG_LEVEL": "INFO",
        **extra,
    }
    return Server("bot", [sys.executable, "-m", "bot", "serve"], env, port, workdir)


def bare_server(slack_api_url: str, workdir: Path) -> Server:
    """The baseline: Bolt with the bot's options and a listener that only acks."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, HERE, "bare", "--port", str(port)]
    argv += ["--slack-api-url", slack_api_url]
    return Server("bare", argv, env, port, workdir)


class StandIns:
    """The dialer simulator and the tests' fake Slack in a child process of their own, so
    the bot's post-ack traffic does not run on the load generator's loop. Talks JSON lines:
    one line of URLs when ready, then one line of counts per "stats" asked."""

    def __init__(self, latency: float, workdir: Path, campaigns: int = 0) -> None:
        self.latency = latency
        self.campaigns = campaigns
        self.log_path = workdir / "standins.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.urls: dict[str, str] = {}

    async def start(self) -> dict[str, str]:
        log = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230 - handed to the child
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                HERE,
                "standins",
                "--latency",
                str(self.latency),
                "--campaigns",
                str(self.campaigns),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env={**os.environ, "PYTHONPATH": ROOT},
            )
        finally:
            log.close()
        self.urls = await self._read()
        return self.urls

    async def _read(self) -> Any:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        if not line:
            text = self.log_path.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"stand-ins exited:\n{text}")
        return json.loads(line)

    async def stats(self) -> dict[str, Any]:
        """{"slack_api": {method: calls}, "replies": {key: n}, "failed": [...], "dialer": {...}}"""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"stats\n")
        await self.proc.stdin.drain()
        return dict(await self._read())

    async def wait_replies(self, prefix: str, expected: int, cap: float) -> dict[str, Any]:
        """Poll until `expected` response_url keys starting with `prefix` were answered (or
        `cap` s pass): the bot's post-ack work of a round, done before the next round."""
        deadline = time.monotonic() + cap
        while True:
            stats = await self.stats()
            got = sum(1 for k in stats["replies"] if k.startswith(prefix))
            if got >= expected or time.monotonic() > deadline:
                return stats
            await asyncio.sleep(0.1)  # another process's progress: nothing to await here

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


# ---------------------------------------------------------------------------- child mains


async def _standins_main(latency: float, campaigns: int) -> None:
    from simulator.server import SimulatorConfig, start_simulator
    from tests.fake_slack import FakeSlack

    sim = await start_simulator(
        SimulatorConfig(port=0, username=DIALER_USER, password=DIALER_PASSWORD, seed=True)
    )
    template = {k: v for k, v in sim.state.campaigns[1].items() if k not in ("id", "state")}
    for i in range(len(sim.state.campaigns), campaigns):
        sim.state.add_campaign({**template, "name": f"Bench {i + 1}"}, state="running")
    if latency:
        sim.faults.set(latency=latency)  # the token endpoint is exempt: only API calls wait
    fake = await FakeSlack.start()
    urls = {
        "sim_url": sim.url,
        "sim_auth_url": sim.auth_url,
        "slack_api_url": fake.api_url,
        "slack_base_url": fake.base_url,
    }
    print(json.dumps(urls), flush=True)
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() == "stats":
                print(json.dumps(_standin_stats(sim, fake)), flush=True)
    finally:
        await fake.stop()
        await sim.stop()


def _standin_stats(sim: Any, fake: Any) -> dict[str, Any]:
    replies: dict[str, int] = {}
    failed: list[str] = []
    slack_api: dict[str, int] = {}
    for call in fake.calls:
        if call.method != "response_url":
            slack_api[call.method] = slack_api.get(call.method, 0) + 1
            continue
        key = str(call.args.get("key", ""))
        replies[key] = replies.get(key, 0) + 1
        text = str(call.args.get("text", ""))
        if text.startswith(FAILED_REPLY):
            failed.append(f"{key}: {text[:160]}")
    dialer: dict[str, int] = {}
    for req in sim.requests:
        path = re.sub(r"/\d+", "/{id}", req["path"])
        label = f"{req['method']} {path} -> {req['status']}"
        dialer[label] = dialer.get(label, 0) + 1
    return {"slack_api": slack_api, "replies": replies, "failed": failed, "dialer": dialer}


async def _bare_main(port: int, slack_api_url: str) -> None:
    """Bolt authorized once at start (one auth.test, its answer reused for every request),
    as the bot is; the listener only acks. Logs at INFO like the bot, so aiohttp formats an
    access line per request here too."""
    import logging

    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_bolt.authorization import AuthorizeResult
    from slack_sdk.web.async_client import AsyncWebClient

    logging.basicConfig(level=logging.INFO)
    client = AsyncWebClient(base_url=slack_api_url, timeout=10)
    authorized = AuthorizeResult.from_auth_test_response(
        bot_token=BOT_TOKEN, auth_test_response=await client.auth_test(token=BOT_TOKEN)
    )

    async def authorize(**_: Any) -> AuthorizeResult:
        return authorized

    app = AsyncApp(
        client=client,
        signing_secret=SIGNING_SECRET,
        authorize=authorize,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )

    @app.command("/dialer")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    web_app = web.Application()
    web_app.add_routes([web.post("/slack/events", slack_events), web.get("/healthz", healthz)])
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="child", required=True)
    st = sub.add_parser("standins", help="dialer simulator + fake Slack; JSON lines on stdio")
    st.add_argument("--latency", type=float, default=0.0, help="dialer answer delay, seconds")
    st.add_argument("--campaigns", type=int, default=0, help="add campaigns up to this many")
    bare = sub.add_parser("bare", help="a bare Bolt app that only acks /dialer")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--slack-api-url", required=True)
    args = p.parse_args(argv)
    if args.child == "standins":
        asyncio.run(_standins_main(args.latency, args.campaigns))
    else:
        asyncio.run(_bare_main(args.port, args.slack_api_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def rss_mb(who: int | None = None) -> float:
    """Peak RSS of this process (or of ``who``, a resource.RUSAGE_* constant), in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF if who is None else who).ru_maxrss / 1024


def worker_peak_mb() -> float:
    """VmHWM (peak RSS) of the largest number-pool worker: they are the forkserver's
    children, so RUSAGE_CHILDREN does not see them."""
    import bot.numbers as numbers

    pool = numbers.current_pool()
    peaks = [0.0]
    for pid in list(getattr(pool, "_processes", None) or {}):
        status = Path(f"/proc/{pid}/status")
        for line in status.read_text().splitlines() if status.exists() else []:
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)
