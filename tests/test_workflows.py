"""Workflow Builder custom steps: function_executed through the real app, answered with
functions.completeSuccess / completeError, over HTTP and Socket Mode."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import startup
from bot.socket_mode import SocketMode
from tests.conftest import ADMIN, NOTIFY, Bot, start_bot, stop_bot
from tests.fake_slack import Call, FakeSlack
from tests.socket_mode_server import SocketModeServer
from tests.test_pause_all import add_campaigns, fail_audit_writes
from tests.test_socket_mode import APP_TOKEN, socket_server, socket_services  # noqa: F401

OPERATOR, VIEWER, NOBODY, SECOND = "UOPER", "UVIEW", "UNOBODY", "USECOND"
OPS_CHANNEL = "COPS"
WORKFLOW = "Wx0WORKFLOW"


def step_event(step: str, inputs: dict[str, Any], execution_id: str) -> dict[str, Any]:
    """The function_executed event as Slack delivers it for a custom step of a Bolt app."""
    return {
        "type": "function_executed",
        "function": {
            "id": "Fn0STEP",
            "callback_id": step,
            "title": step,
            "type": "app",
            "app_id": "A0001",
        },
        "inputs": inputs,
        "function_execution_id": execution_id,
        "workflow_execution_id": WORKFLOW,
        "event_ts": "1700000000.000100",
        "bot_access_token": "xwfp-test-workflow-token",
    }


def completions(fake: FakeSlack, execution_id: str) -> list[Call]:
    return [
        c
        for c in fake.calls
        if c.method in ("functions.completeSuccess", "functions.completeError")
        and c.args.get("function_execution_id") == execution_id
    ]


async def run_step(
    b: Bot, step: str, inputs: dict[str, Any], execution_id: str | None = None, **kw: Any
) -> Call:
    """Deliver the event signed, wait for the work, return the one completion of that run."""
    fx = execution_id or f"Fx{uuid.uuid4().hex[:10].upper()}"
    reply = await b.driver.event(step_event(step, inputs, fx), **kw)
    assert reply.status == 200, reply.text
    await b.settle()
    calls = completions(b.slack, fx)
    assert calls, b.slack.describe()
    assert calls[-1].token_present and calls[-1].result["ok"] is True
    return calls[-1]


def succeeded(call: Call) -> dict[str, Any]:
    assert call.method == "functions.completeSuccess", call.args
    return call.args["outputs"]


def failed(call: Call) -> str:
    assert call.method == "functions.completeError", call.args
    return str(call.args["error"])


async def audit(b: Bot) -> list[Any]:
    return await b.services.store.run(b.services.store.audit.history, limit=50)


def notes(fake: FakeSlack) -> list[str]:
    return [FakeSlack.texts(c.args) for c in fake.calls_to("chat.postMessage")]


@pytest.fixture
async def wbot(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    # An unknown outcome is re-read for 1 s here, not the default 30 s.
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db", dialer_resolve_seconds=1.0)
    grants = b.services.store.grants
    grants.grant(OPERATOR, "operator", [OPS_CHANNEL], ADMIN)
    grants.grant(VIEWER, "viewer", None, ADMIN)
    yield b
    await stop_bot(b)


async def test_start_runs_as_the_person_without_confirmation(wbot: Bot) -> None:
    inputs = {"campaign": "Spring promo", "user": OPERATOR, "channel": OPS_CHANNEL}
    call = await run_step(wbot, "start_campaign", inputs, "FxSTART1")
    assert succeeded(call) == {
        "campaign_id": 1,
        "campaign_name": "Spring promo",
        "state": "running",
    }
    assert wbot.sim.state.campaigns[1]["state"] == "running"
    [row] = [e for e in await audit(wbot) if e.action == "start"]
    assert (row.user_id, row.channel_id, row.outcome) == (OPERATOR, OPS_CHANNEL, "ok")
    via = row.request["via"]
    assert via == f"workflow {WORKFLOW} (step start_campaign, run FxSTART1)"
    started = [n for n in notes(wbot.slack) if f"via workflow {WORKFLOW}" in n]
    assert started, notes(wbot.slack)
    assert all(f"<@{OPERATOR}> started campaign *Spring promo* (#1)" in n for n in started)


async def test_pause_with_reason_and_status(wbot: Bot) -> None:
    await run_step(wbot, "start_campaign", {"campaign": "1", "user": ADMIN})
    inputs = {"campaign": "#1", "user": OPERATOR, "channel": OPS_CHANNEL, "reason": "storm"}
    out = succeeded(await run_step(wbot, "pause_campaign", inputs))
    assert out == {"campaign_id": 1, "campaign_name": "Spring promo", "state": "paused"}
    [row] = [e for e in await audit(wbot) if e.action == "pause"]
    assert row.request["reason"] == "storm" and row.outcome == "ok"
    status = await run_step(wbot, "campaign_status", {"campaign": "outage", "user": VIEWER})
    assert succeeded(status) == {
        "campaign_id": 2,
        "campaign_name": "Outage Brno",
        "state": "paused",
    }


async def test_without_the_role_nothing_reaches_the_dialer(wbot: Bot) -> None:
    # The operator's role is in #ops only; the workflow runs elsewhere.
    error = failed(
        await run_step(wbot, "start_campaign", {"campaign": "1", "user": OPERATOR, "channel": "C9"})
    )
    assert "start needs the operator role" in error and "has no role in channel C9" in error
    error = failed(await run_step(wbot, "pause_all_campaigns", {"user": NOBODY}))
    assert "has no role (the step was given no channel" in error
    assert wbot.sim.state.campaigns[1]["state"] == "stopped"
    assert not [r for r in wbot.sim.requests if r["method"] != "GET"]  # nothing sent
    denied = [e for e in await audit(wbot) if e.outcome == "denied"]
    assert [(e.action, e.user_id) for e in denied] == [("pause", NOBODY), ("start", OPERATOR)]
    assert all("workflow step" in (e.detail or "") for e in denied)
    assert all(e.request["via"].startswith(f"workflow {WORKFLOW}") for e in denied)
    # /dialer history says who asked through a workflow
    reply = await wbot.command("history denied", user_id=ADMIN, channel_id="C0001")
    assert reply.status == 200
    await wbot.settle()
    shown = FakeSlack.texts(wbot.replies()[-1])
    assert f"<@{NOBODY}> via workflow {WORKFLOW} (step pause_all_campaigns" in shown


async def test_unknown_and_ambiguous_campaigns_are_errors(wbot: Bot) -> None:
    error = failed(await run_step(wbot, "start_campaign", {"campaign": "winterx", "user": ADMIN}))
    assert "No campaign is called “winterx”" in error
    error = failed(await run_step(wbot, "unpause_campaign", {"campaign": "99", "user": ADMIN}))
    assert "there is no campaign #99" in error and "`" not in error
    error = failed(await run_step(wbot, "campaign_status", {"campaign": "99", "user": ADMIN}))
    assert error.startswith("Could not read the campaign: there is no campaign #99")
    # A step runs at once: a name matching only in part is refused, as `/dialer pause` does.
    error = failed(await run_step(wbot, "start_campaign", {"campaign": "sprin", "user": ADMIN}))
    assert "“sprin” matches Spring promo (#1) only in part" in error
    error = failed(await run_step(wbot, "start_campaign", {"campaign": "", "user": ADMIN}))
    assert "The campaign input needs a campaign id or name" in error
    # Two campaigns share the word "promo": the step lists them, it cannot ask.
    error = failed(await run_step(wbot, "start_campaign", {"campaign": "o", "user": ADMIN}))
    assert "matches several campaigns: Spring promo (#1), Outage Brno (#2)" in error
    assert wbot.sim.state.campaigns[1]["state"] == "stopped"


async def test_a_repeated_delivery_runs_once_and_answers_the_same(wbot: Bot) -> None:
    inputs = {"campaign": "1", "user": ADMIN}
    first = succeeded(await run_step(wbot, "start_campaign", inputs, "FxREPEAT", event_id="Ev1"))
    # Slack's retry of the same delivery, then the same run delivered anew.
    await run_step(wbot, "start_campaign", inputs, "FxREPEAT", event_id="Ev1", retry_num=1)
    again = await run_step(wbot, "start_campaign", inputs, "FxREPEAT", event_id="Ev2")
    assert succeeded(again) == first
    starts = [e for e in await audit(wbot) if e.action == "start"]
    assert [e.outcome for e in starts] == ["ok"]  # the dialer got one start
    # Two deliveries of one run at the same moment: one start reaches the dialer.
    await run_step(wbot, "pause_campaign", inputs)
    fx = "FxTWICE"
    replies = await asyncio.gather(
        *(wbot.driver.event(step_event("unpause_campaign", inputs, fx)) for _ in range(2))
    )
    assert [r.status for r in replies] == [200, 200]
    await wbot.settle()
    # The one that claimed the run answers; the other found it running and said nothing.
    assert len(completions(wbot.slack, fx)) == 1
    assert [e.outcome for e in await audit(wbot) if e.action == "unpause"] == ["ok"]
    # A failed run repeats its error too.
    err = failed(await run_step(wbot, "start_campaign", {"campaign": "1", "user": ADMIN}, "FxE"))
    assert failed(await run_step(wbot, "start_campaign", inputs, "FxE")) == err


async def test_two_person_rule_ends_the_step_at_once(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await start_bot(simulator, fake_slack, tmp_path / "a.db", approval_required="start")
    try:
        error = failed(await run_step(b, "start_campaign", {"campaign": "1", "user": ADMIN}))
        assert "needs a second person's approval" in error and "/dialer start 1" in error
        assert simulator.state.campaigns[1]["state"] == "stopped"
        assert not b.slack.calls_to("chat.postMessage")  # no request posted, nothing announced
        [row] = await audit(b)
        assert (row.action, row.outcome, row.campaign_id) == ("start", "denied", 1)
    finally:
        await stop_bot(b)


async def test_pause_all_counts_and_names_failures(wbot: Bot) -> None:
    await run_step(wbot, "start_campaign", {"campaign": "1", "user": ADMIN})
    await run_step(wbot, "unpause_campaign", {"campaign": "2", "user": ADMIN})
    wbot.slack.clear()
    out = succeeded(await run_step(wbot, "pause_all_campaigns", {"user": ADMIN, "reason": "x"}))
    assert out == {"paused_count": 2, "failed_campaigns": ""}
    assert {c["state"] for c in wbot.sim.state.campaigns.values()} == {"paused"}
    [note] = notes(wbot.slack)
    assert "paused 2 campaigns" in note and f"via workflow {WORKFLOW}" in note


async def test_pause_all_says_which_the_storage_failed_for(
    wbot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One campaign's audit row cannot be written (not sent, still running), another's
    answer cannot be recorded (sent: the dialer paused it): the step still completes, and
    its outputs say which is which; the notification does too."""
    ids = add_campaigns(wbot, ["running"] * 3)
    fail_audit_writes(wbot, monkeypatch, begin=[ids[0]], complete=[ids[1]])
    out = succeeded(await run_step(wbot, "pause_all_campaigns", {"user": ADMIN}))
    states = wbot.sim.state.campaigns
    assert [states[c]["state"] for c in ids] == ["running", "paused", "paused"]
    assert out["paused_count"] == 1
    assert out["failed_campaigns"] == (
        "Camp 0 (not sent: the bot's storage failed, SQLite: disk I/O error), "
        "Camp 1 (sent, but the bot's storage failed recording it, SQLite: disk I/O error: "
        "the dialer paused it)"
    )
    [note] = notes(wbot.slack)
    assert "not sent (the bot's storage failed) 1" in note and "the dialer paused it" in note
    assert "Nothing was sent" not in note


async def test_socket_mode_step(
    simulator: Any,
    fake_slack: FakeSlack,
    socket_server: SocketModeServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    services = socket_services(simulator, fake_slack, socket_server, tmp_path)
    await startup(services)
    async with SocketMode(services, APP_TOKEN):
        await socket_server.wait_connected()
        payload = {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": "EvSOCKET",
            "event_time": 1700000000,
            "event": step_event("start_campaign", {"campaign": "1", "user": ADMIN}, "FxSOCK"),
        }
        ack = await socket_server.request("events_api", payload)
        assert "payload" not in ack
        [done] = await fake_slack.wait_for(
            "functions.completeSuccess", lambda c: c.args["function_execution_id"] == "FxSOCK"
        )
        assert done.args["outputs"]["state"] == "running"
        assert simulator.state.campaigns[1]["state"] == "running"
        await fake_slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == NOTIFY)
    await services.aclose()


async def test_the_demo_plays_a_workflow_run(tmp_path: Path) -> None:
    from simulator.demo.session import DemoSession
    from simulator.demo.source import ScriptInput

    lines: list[str] = []
    s = await DemoSession.start(db_path=str(tmp_path / "demo.db"), out=lines.append)
    try:
        script = [
            'workflow start "Spring promo" as dana',
            "workflow pause 1 because storm as bob",
            "workflow status spring as alice",
            "workflow pause-all as dana",
            "workflow reboot 1 as dana",
        ]
        assert await s.run(ScriptInput(script, lines.append)) == 0
    finally:
        await s.close()
    text = "\n".join(lines)
    done = "(workflow step start_campaign completed: campaign_id = 1, "
    assert done + "campaign_name = Spring promo, state = running)" in text
    assert "via workflow WxDEMO000001" in text  # the notification in #dialer-ops
    assert "(workflow step pause_campaign failed: pause needs the operator role" in text
    assert "(workflow step campaign_status completed: campaign_id = 1," in text
    assert (
        "(workflow step pause_all_campaigns completed: paused_count = 1, failed_campaigns = )"
        in (text)
    )
    assert "Usage: workflow pause|unpause|start|status" in text


async def test_a_dialer_refusal_and_a_lost_answer_end_the_step(wbot: Bot) -> None:
    wbot.sim.faults.set(status=500, count=1, path_prefix="/dialer/campaigns/1/control")
    error = failed(await run_step(wbot, "start_campaign", {"campaign": "1", "user": ADMIN}))
    assert error.startswith("The dialer refused to start campaign Spring promo (#1):")
    wbot.sim.faults.set(drop=1, path_prefix="/dialer/campaigns/1/control")
    error = failed(await run_step(wbot, "start_campaign", {"campaign": "1", "user": ADMIN}))
    # Re-read at once: the campaign is still stopped, so the start did not take effect.
    assert error.startswith("Start campaign Spring promo (#1): the connection broke")
    assert "so the start did not take effect" in error and "result is unknown" in error
    outcomes = [e.outcome for e in await audit(wbot) if e.action == "start"]
    assert outcomes == ["unknown", "failed"]
    # The unknown one is announced with what the re-read showed, and the workflow named.
    assert any(
        "the start did not take effect" in n and "via workflow" in n for n in notes(wbot.slack)
    )
