"""Observability: /metrics moving, /readyz flipping for each dependency, JSON logs that join the
audit log and hold no secret."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import readiness
from tests.bot_process import BotProcess
from tests.conftest import NOTIFY, SIGNING_SECRET, Bot
from tests.fake_slack import FakeSlack


async def get(bot: Any, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(bot.url + path) as resp:
        return resp.status, await resp.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def start_and_confirm(bot: Bot, campaign: int = 1) -> None:
    await bot.command(f"start {campaign}")
    [confirm] = await bot.slack.wait_for(
        "response_url", lambda c: "control:confirm" in json.dumps(c.args), timeout=10
    )
    [token] = FakeSlack.button_values(confirm.args, "control:confirm")
    await bot.action("control:confirm", token)
    await bot.slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == NOTIFY)
    await bot.settle()


async def test_metrics_are_present_and_move(bot: Bot) -> None:
    status, before = await get(bot, "/metrics")
    assert status == 200
    for name in (
        "dialer_bot_outbox_depth",
        "dialer_bot_outbox_oldest_age_seconds",
        "dialer_bot_pending_approvals",
        "dialer_bot_pending_schedules",
        "dialer_bot_watcher_last_success_age_seconds",
        "dialer_bot_audit_entries",
        "dialer_bot_python_heap_blocks",
        "process_resident_memory_bytes",
    ):
        assert f"\n{name} " in before or before.startswith(f"{name} "), name

    await bot.command("campaigns")
    await bot.settle()
    await start_and_confirm(bot)
    _, after = await get(bot, "/metrics")

    acks = "dialer_bot_ack_seconds_count"
    assert value(after, acks, kind="command") >= value(before, acks, kind="command") + 2
    assert value(after, acks, kind="block_actions") >= 1
    listing = {"method": "GET", "endpoint": "/dialer/campaigns", "status": "200"}
    assert value(after, "dialer_bot_dialer_requests_total", **listing) >= 1
    # counters are process-wide (one process is one bot): compare with before
    control = {"method": "PUT", "endpoint": "/dialer/campaigns/{id}/control", "status": "200"}
    moved = value(after, "dialer_bot_dialer_requests_total", **control) - value(
        before, "dialer_bot_dialer_requests_total", **control
    )
    assert moved == 1
    seconds = {"method": "PUT", "endpoint": "/dialer/campaigns/{id}/control"}
    count = "dialer_bot_dialer_request_seconds_count"
    assert value(after, count, **seconds) - value(before, count, **seconds) == 1
    ok = {"command": "start", "outcome": "ok"}
    assert value(after, "dialer_bot_control_commands_total", **ok) == 1
    assert value(after, "dialer_bot_audit_entries") == 2  # pending + completion
    assert value(after, "dialer_bot_python_heap_blocks") > 10_000  # this process's own heap
    assert value(after, "process_resident_memory_bytes") > 10_000_000
    # counts and labels only: no campaign name, no token, no secret
    for secret in ("Spring promo", "xoxb-test-token", SIGNING_SECRET, "UADMIN"):
        assert secret not in after


async def test_metrics_count_the_outbox_while_slack_is_down(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", count=50, status=503, html=True)
    await start_and_confirm_no_notify(bot)
    _, text = await get(bot, "/metrics")
    assert value(text, "dialer_bot_outbox_depth") >= 1
    assert value(text, "dialer_bot_outbox_oldest_age_seconds") >= 0


async def start_and_confirm_no_notify(bot: Bot) -> None:
    await bot.command("start 1")
    [confirm] = await bot.slack.wait_for(
        "response_url", lambda c: "control:confirm" in json.dumps(c.args), timeout=10
    )
    [token] = FakeSlack.button_values(confirm.args, "control:confirm")
    await bot.action("control:confirm", token)
    await bot.slack.wait_for("chat.postMessage", lambda c: c.status == 503)
    assert await bot.services.tasks.drain(10)


async def readyz(bot: Bot) -> tuple[int, dict[str, Any]]:
    status, text = await get(bot, "/readyz")
    return status, json.loads(text)


async def test_readyz_flips_with_the_database(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "DATABASE_CHECK_TTL_S", 0.0)  # each probe checks afresh
    assert (await readyz(bot))[0] == 200
    other = sqlite3.connect(bot.services.store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the file
        status, body = await readyz(bot)
        assert status == 503 and body["checks"]["database"]["ok"] is False
        assert "locked" in body["checks"]["database"]["detail"]
        assert body["checks"]["slack"]["ok"] and body["checks"]["dialer"]["ok"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await readyz(bot))[0] == 200
    status, _ = await get(bot, "/healthz")
    assert status == 200


async def test_readyz_flips_with_slack_auth(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "SLACK_RETRY_S", 0.0)
    bot.services.slack_auth.answer = None  # as after a start while Slack was unreachable
    bot.slack.fail_next("auth.test", status=200, error="token_revoked")
    status, body = await readyz(bot)
    assert status == 503
    assert body["checks"]["slack"] == {"ok": False, "detail": "Slack refused SLACK_BOT_TOKEN"}
    assert (await readyz(bot))[0] == 200  # the next auth.test succeeds
    assert bot.services.slack_auth.answer is not None


async def test_readyz_flips_with_the_dialer(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "PROBE_AFTER_S", 0.0)  # always ask the dialer itself
    assert (await readyz(bot))[0] == 200
    bot.sim.faults.set(status=503, count=100)
    status, body = await readyz(bot)
    assert status == 503
    assert body["checks"]["dialer"] == {
        "ok": False,
        "detail": "the dialer is unreachable (HTTP 503)",
    }
    bot.sim.faults.clear()
    assert (await readyz(bot))[0] == 200


async def test_readyz_trusts_a_recent_dialer_answer(bot: Bot) -> None:
    await bot.command("campaigns")
    await bot.settle()
    before = len(bot.sim.requests)
    status, body = await readyz(bot)
    assert status == 200 and body["checks"]["dialer"]["ok"]
    assert len(bot.sim.requests) == before  # no probe needed


async def test_json_logs_parse_join_the_audit_log_and_hold_no_secret(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    proc = BotProcess(
        simulator,
        fake_slack.api_url,
        tmp_path / "bot.db",
        response_url=fake_slack.response_url("r"),
        LOG_FORMAT="json",
    )
    try:
        await proc.start()
        await proc.driver.command("start 1")
        [confirm] = await fake_slack.wait_for("response_url", count=1, timeout=10)
        [token] = FakeSlack.button_values(confirm.args, "control:confirm")
        await proc.driver.action("control:confirm", token)
        await fake_slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == NOTIFY)
        async with aiohttp.ClientSession() as s:  # a forged request, its text a secret
            forged = {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}
            body = "command=%2Fdialer&text=forged-secret-text"
            async with s.post(proc.url + "/slack/events", data=body, headers=forged) as r:
                assert r.status == 401
        assert await proc.terminate() == 0
    finally:
        await proc.close()
    text = proc.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(rec) for rec in lines)
    db = sqlite3.connect(tmp_path / "bot.db")
    [(request,)] = db.execute("SELECT request FROM audit_log WHERE outcome = 'pending'")
    rid = json.loads(request)["request_id"]
    joined = [rec for rec in lines if rec.get("request_id") == rid]
    assert joined, "no log line carries the audit row's request id"
    for secret in ("xoxb-test-token", SIGNING_SECRET, "password=demo", "Bearer "):
        assert secret not in text
    assert "command=%2Fdialer" not in text and "payload=" not in text  # no request bodies
    assert "forged-secret-text" not in text
    assert any(
        rec["message"].startswith("refused a request to /slack/events with 401: ") for rec in lines
    )
    # The access log (bot.app.ACCESS_LOG_FORMAT): request line, status, size, seconds taken.
    access = [rec["message"] for rec in lines if rec["logger"] == "aiohttp.access"]
    assert any(
        re.fullmatch(r'127\.0\.0\.1 "POST /slack/events HTTP/1\.1" 401 \d+ [\d.]+ ".*"', a)
        for a in access
    ), access[:3]
    assert any(rec["logger"] == "aiohttp.access" for rec in joined)  # its access line too
