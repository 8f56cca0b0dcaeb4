"""Run `python -m bot serve` as a real child process, for tests that kill or stop it.

The simulator and fake Slack run in the test process on 127.0.0.1; the child reaches
them through the URLs in its environment. SIGKILL leaves the database exactly as a
crash would; SIGTERM exercises the real signal handler and shutdown path.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import ADMIN, NOTIFY, SIGNING_SECRET
from tests.slack_driver import SlackDriver

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port nobody listens on right now (the child binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(sim: Any, slack_api_url: str, db_path: Path, port: int, **extra: str) -> dict[str, str]:
    """Every setting through the environment, as a deployment would give it."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "PYTHONUNBUFFERED": "1",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "DIALER_API_URL": sim.url,
        "DIALER_AUTH_URL": sim.auth_url,
        "DIALER_USERNAME": "demo@example.com",
        "DIALER_PASSWORD": "demo",
        "DATABASE_PATH": str(db_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "NOTIFY_CHANNEL": NOTIFY,
        "DIALER_ADMINS": ADMIN,
    }
    env.update(extra)
    return env


class BotProcess:
    """One `python -m bot serve` child; its output goes to a log file for failure messages."""

    def __init__(
        self, sim: Any, slack_api_url: str, db_path: Path, *, response_url: str, **extra: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = db_path
        self.env = bot_env(sim, slack_api_url, db_path, self.port, **extra)
        self.log_path = db_path.with_name(f"{db_path.stem}-{self.port}.log")
        self.driver = SlackDriver(self.url, SIGNING_SECRET, response_url=response_url)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 20.0) -> BotProcess:
        """Spawn the child and return once /healthz answers (start-up recovery is done then)."""
        log = open(self.log_path, "ab")  # noqa: SIM115, ASYNC230 - handed to the child
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "serve",
                cwd=str(self.db_path.parent),  # no stray .env is read
                env=self.env,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        await self.wait_healthy(timeout)
        return self

    async def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise AssertionError(
                        f"bot exited with {self.proc.returncode} before it was healthy:\n"
                        + self.output()
                    )
                try:
                    async with session.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"bot not healthy after {timeout}s:\n" + self.output())
                # /healthz has no event to await: poll it briefly while the child starts.
                await asyncio.sleep(0.05)

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return "(no output)"

    async def kill(self) -> int:
        """SIGKILL: no handler runs, nothing is flushed; the crash case."""
        return await self._signal(signal.SIGKILL, 10.0)

    async def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait for the exit code."""
        return await self._signal(signal.SIGTERM, timeout)

    async def _signal(self, sig: int, timeout: float) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def close(self) -> None:
        """Make sure the child is gone (tests call this in finally)."""
        await self.driver.close()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run `python -m bot <args>` to completion; returns (exit code, combined output)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return int(proc.returncode or 0), out.decode(errors="replace")
