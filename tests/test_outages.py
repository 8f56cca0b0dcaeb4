"""The dialer misbehaving (simulator fault injection): slow, failing, dropping, expiring tokens.

Whatever the dialer does, every Slack request is acked within 3 s, each user gets a
clear answer, no control command is carried out twice, and the bot works again as
soon as the dialer does, without a restart. The bot's dialer timeout is 1 s here so
that "60 s of latency" costs the test a second, not a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN, Bot, assert_everything_sent_is_valid, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.slack_driver import Reply

ACK_LIMIT_MS = 3000


@pytest.fixture
async def obot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    b = await start_bot(
        simulator, fake_slack, tmp_path / "bot.db", dialer_timeout=1.0, dialer_resolve_seconds=1.0
    )
    yield b
    await stop_bot(b)
    assert_everything_sent_is_valid(fake_slack)


def puts(bot: Bot, campaign_id: int | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in bot.sim.requests
        if r["method"] == "PUT"
        and r["path"].endswith("/control")
        and (campaign_id is None or r["path"] == f"/dialer/campaigns/{campaign_id}/control")
    ]


def texts(bot: Bot, key: str = "default") -> list[str]:
    return [FakeSlack.texts(c.args) for c in bot.replies(key)]


def acked_fast(*replies: Reply) -> None:
    for r in replies:
        assert r.status == 200, r
        assert r.elapsed_ms < ACK_LIMIT_MS, f"ack took {r.elapsed_ms:.0f} ms"


async def token_for(bot: Bot, text: str) -> str:
    acked_fast(await bot.command(text, response_url=bot.slack.response_url("prep")))
    await bot.settle()
    last = bot.replies("prep")[-1].args
    values = [
        el["value"]
        for b in last.get("blocks", [])
        if b["type"] == "actions"
        for el in b["elements"]
        if el.get("action_id") == "control:confirm"
    ]
    assert len(values) == 1, FakeSlack.texts(last)
    return values[0]


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """The simulator's request log has no event: poll it with short waits, bounded."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def recovers(bot: Bot) -> None:
    """With the dialer healthy again, the same bot answers reads and runs commands."""
    bot.sim.faults.clear()
    acked_fast(await bot.command("campaigns", response_url=bot.slack.response_url("after")))
    await bot.settle(20)
    assert "Outage Brno" in texts(bot, "after")[-1]


def outcomes(bot: Bot, campaign_id: int) -> list[str]:
    """The outcomes of the campaign's commands (their resolutions left out), latest first."""
    entries = bot.services.store.audit.history(campaign_id=campaign_id)
    return [e.outcome for e in entries if e.action != "resolve"]


# --- latency ------------------------------------------------------------------------------


@pytest.mark.parametrize("latency", [10.0, 60.0])
async def test_latency_beyond_the_timeout(obot: Bot, latency: float) -> None:
    token = await token_for(obot, "start 1")
    obot.sim.faults.set(latency=latency)
    replies = await asyncio.gather(
        obot.action("control:confirm", token),
        obot.command("campaigns", response_url=obot.slack.response_url("read")),
        obot.command("pause 2", response_url=obot.slack.response_url("pause")),
    )
    acked_fast(*replies)
    await obot.settle(20)
    [confirmed] = texts(obot)
    assert "not known whether" in confirmed and "/dialer campaign 1" in confirmed
    [read] = texts(obot, "read")
    assert "did not answer in time" in read and "Try again" in read
    [paused] = texts(obot, "pause")
    assert "not known whether" in paused
    assert outcomes(obot, 1) == ["unknown"] and outcomes(obot, 2) == ["unknown"]
    assert len(puts(obot, 1)) == 1 and len(puts(obot, 2)) == 1  # never re-sent
    await recovers(obot)


async def test_slow_but_in_time_succeeds(obot: Bot) -> None:
    token = await token_for(obot, "start 1")
    obot.sim.faults.set(latency=0.5)
    acked_fast(await obot.action("control:confirm", token))
    await obot.settle()
    assert "started campaign *Spring promo*" in texts(obot)[-1]
    assert obot.sim.state.campaigns[1]["state"] == "running"


# --- errors and dropped connections -------------------------------------------------------


async def test_500_on_control_is_reported_and_not_retried(obot: Bot) -> None:
    token = await token_for(obot, "start 1")
    obot.sim.faults.set(status=500, count=5, path_prefix="/dialer/campaigns/1/control")
    acked_fast(await obot.action("control:confirm", token))
    await obot.settle()
    assert "the dialer answered 500" in texts(obot)[-1]
    assert outcomes(obot, 1) == ["failed"]
    assert len(puts(obot, 1)) == 1
    assert obot.sim.state.campaigns[1]["state"] == "stopped"
    await recovers(obot)
    token = await token_for(obot, "start 1")  # the user can simply try again
    await obot.action("control:confirm", token)
    await obot.settle()
    assert obot.sim.state.campaigns[1]["state"] == "running"


async def test_5xx_on_reads(obot: Bot) -> None:
    obot.sim.faults.set(status=503, count=2)  # retried: the user never sees these
    acked_fast(await obot.command("campaigns"))
    await obot.settle()
    assert "Spring promo" in texts(obot)[-1]
    obot.sim.faults.set(status=500, count=1)  # not a transient status: one clear sentence
    acked_fast(await obot.command("campaign 1"))
    await obot.settle()
    assert "the dialer answered 500" in texts(obot)[-1]
    await recovers(obot)


async def test_dropped_connections(obot: Bot) -> None:
    obot.sim.faults.set(drop=2)  # reads are retried
    acked_fast(await obot.command("campaign 1"))
    await obot.settle()
    assert "Spring promo" in texts(obot)[-1]
    token = await token_for(obot, "start 1")
    obot.sim.faults.set(drop=1, path_prefix="/dialer/campaigns/1/control")
    acked_fast(await obot.action("control:confirm", token))
    await obot.settle()
    # The answer was lost; the re-read shows the start did not take effect (it never arrived).
    assert "the connection broke before the dialer's answer arrived" in texts(obot)[-1]
    assert "so the start did not take effect" in texts(obot)[-1]
    assert outcomes(obot, 1) == ["unknown"]
    assert len(puts(obot, 1)) == 1  # a control is never re-sent after a broken connection
    await recovers(obot)


# --- tokens and the auth server -----------------------------------------------------------


async def test_token_expiry_in_the_middle_of_a_run(obot: Bot) -> None:
    ids = range(101, 121)
    template = dict(obot.sim.state.campaigns[1])
    store = obot.services.store
    tokens = []
    for cid in ids:
        obot.sim.state.campaigns[cid] = {**template, "id": cid, "name": f"Run {cid}"}
        tokens.append(
            store.claims.issue(action="start", campaign_id=cid, user_id=ADMIN, channel_id="C0001")
        )
    acked_fast(await obot.command("campaign 1"))  # log in once
    await obot.settle()
    logins_before = sum(1 for r in obot.sim.requests if r["path"] == "/token")
    # The simulator checks the token after its latency, so PUTs already in flight when the
    # tokens expire come back 401: exactly the "expired mid-run" case.
    obot.sim.faults.set(latency=0.5, path_prefix="/dialer/campaigns/")
    run_url = obot.slack.response_url("run")
    replies = await asyncio.gather(
        *[obot.action("control:confirm", t, response_url=run_url) for t in tokens]
    )
    acked_fast(*replies)
    await until(lambda: len(puts(obot)) >= 20, 10, "20 PUTs in flight")
    obot.sim.tokens.expire_access_tokens()
    await obot.settle()
    for cid in ids:
        statuses = [r["status"] for r in puts(obot, cid)]
        assert statuses.count(200) == 1 and set(statuses) <= {200, 401}, (cid, statuses)
        assert obot.sim.state.campaigns[cid]["state"] == "running"
        assert outcomes(obot, cid) == ["ok"]
    assert any(r["status"] == 401 for r in puts(obot))
    logins = sum(1 for r in obot.sim.requests if r["path"] == "/token") - logins_before
    assert 1 <= logins <= 2  # one renewal (refresh, maybe then password) for all 20
    answers = texts(obot, "run")
    assert len(answers) == 20 and all("started campaign" in t for t in answers), answers


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "count": 100},
        {"drop": 100},
    ],
)
async def test_auth_endpoint_down(obot: Bot, fault: dict[str, int]) -> None:
    token = await token_for(obot, "start 1")  # logged in while the auth server was up
    obot.sim.tokens.expire_access_tokens()
    obot.sim.faults.set(path_prefix="/token", **fault)
    replies = await asyncio.gather(
        obot.action("control:confirm", token),
        obot.command("campaigns", response_url=obot.slack.response_url("read")),
    )
    acked_fast(*replies)
    await obot.settle(20)
    [answer] = texts(obot)
    assert "auth server" in answer or "could not be reached" in answer, answer
    assert texts(obot, "read") and "Could not list campaigns" in texts(obot, "read")[-1]
    assert [r["status"] for r in puts(obot, 1)] == [401]  # refused, so never carried out
    assert obot.sim.state.campaigns[1]["state"] == "stopped"
    assert outcomes(obot, 1) == ["failed"]
    await recovers(obot)
    token = await token_for(obot, "start 1")
    acked_fast(await obot.action("control:confirm", token))
    await obot.settle()
    assert obot.sim.state.campaigns[1]["state"] == "running"
    assert Counter(r["status"] for r in puts(obot, 1)) == Counter({401: 1, 200: 1})
