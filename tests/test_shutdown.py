"""Graceful shutdown of the real process: SIGTERM stops intake, lets work in flight finish."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from store import Store
from tests.bot_process import BotProcess
from tests.fake_slack import FakeSlack
from tests.test_crash import control_puts, issue_token, until


async def test_sigterm_finishes_the_confirm_in_flight_then_exits(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db_path = tmp_path / "bot.db"
    token = issue_token(db_path, "start", 1, "stopped")
    proc = await BotProcess(
        simulator, fake_slack.api_url, db_path, response_url=fake_slack.response_url("term")
    ).start()
    try:
        simulator.faults.set(latency=2.0, path_prefix="/dialer/campaigns/1/control")
        reply = await proc.driver.action("control:confirm", token)
        assert reply.status == 200 and reply.elapsed_ms < 3000
        await until(lambda: len(control_puts(simulator)) == 1, 10, "the PUT to arrive")

        started = time.monotonic()
        assert proc.proc is not None
        proc.proc.send_signal(15)  # SIGTERM
        # Give the signal handler a moment to run, then try a new request: refused.
        await asyncio.sleep(0.3)
        refused: int | str
        try:
            late = await proc.driver.command("campaigns")
            refused = late.status
        except aiohttp.ClientError as exc:
            refused = type(exc).__name__
        assert refused == 503 or isinstance(refused, str), refused

        code = await asyncio.wait_for(proc.proc.wait(), 15)
        elapsed = time.monotonic() - started
        assert code == 0, proc.output()
        assert elapsed < 10, elapsed

        # The command in flight was carried out and recorded, not left pending.
        assert simulator.state.campaigns[1]["state"] == "running"
        assert [r["status"] for r in control_puts(simulator)] == [200]
        store = Store(db_path)
        try:
            [entry] = store.audit.history(campaign_id=1)
            assert entry.outcome == "ok"
            assert store.audit.verify().ok
        finally:
            store.close()
        answers = [FakeSlack.texts(c.args) for c in fake_slack.calls_to("response_url")]
        assert any("started campaign" in t for t in answers), answers
        assert not any("campaigns" in t.lower() and "Spring" in t for t in answers)
    finally:
        await proc.close()
