"""Calling hours at the called person's local time: the computation, the warnings, the
enforcement of starts and unpauses with an admin's audited override, scheduled ones
re-checked when due, approved ones re-checked at approval, workflow steps, and lists the
bot did not upload (read once, or "cannot tell")."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

import bot.app as services_module
from bot.calling_hours import Permitted, check, parse_days
from bot.config import ConfigError, load_settings
from bot.numbers.zones import count_numbers, zones_of
from bot.period import ActivePeriod
from handlers.call_lists.views import CREATE_ACTION
from handlers.campaign_form import fields as f
from handlers.control.views import PAST
from handlers.grammar import control
from simulator.demo.session import DemoSession, ScriptInput
from simulator.server import RunningSimulator, SimulatorConfig, start_simulator
from store import Store
from tests.conftest import Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import (
    audit_rows,
    button_value,
    click_as,
    decide_as,
    grant,
    has_button,
    run_as,
)
from tests.helpers_access import text_of as texts
from tests.sim_fixtures import SIM_PASSWORD, SIM_USERNAME
from tests.test_call_lists import click as upload_click
from tests.test_call_lists import form as upload_form
from tests.test_call_lists import last_update as upload_last
from tests.test_call_lists import submit as upload_submit
from tests.test_call_lists import token_of as upload_token
from tests.test_campaign_form import open_form, state_from_view, valid_state, writes
from tests.test_campaign_form import submit as form_submit
from tests.test_clone import opened_form
from tests.test_schedules import Clock, schedule
from tests.test_workflows import failed as step_failed
from tests.test_workflows import run_step

PRAGUE_NY = ActivePeriod(time(9), time(17), frozenset({1, 2, 3, 4, 5}))
WINDOW = Permitted.parse("08:00-20:00")
OPERATOR = "UOPER"
ADMIN = "UADMIN"


# --- the pure computation ---------------------------------------------------------------


def test_new_york_numbers_called_at_3_to_11_are_a_violation_prague_ones_are_not() -> None:
    counts = {"Europe/Prague": 3_100, "America/New_York": 1_240}
    [v] = check(PRAGUE_NY, "Europe/Prague", WINDOW, counts, today=date(2026, 12, 7))
    assert (v.zone, v.numbers, v.local) == ("America/New_York", 1_240, ("03:00–11:00",))
    assert v.text == (
        "1,240 numbers in America/New_York would be called at 03:00–11:00 local time; "
        "permitted 08:00–20:00"
    )


def test_dst_the_weeks_when_only_one_side_has_changed_its_clocks() -> None:
    counts = {"America/New_York": 10}
    # The US moves its clocks on Sunday 8 March 2026, Europe on 29 March: from Friday the
    # 6th, the 7 days hold both the 6-hour and the 5-hour difference.
    [v] = check(PRAGUE_NY, "Europe/Prague", WINDOW, counts, today=date(2026, 3, 6))
    assert v.local == ("03:00–11:00", "04:00–12:00")
    # Europe's change: 30 March on, the difference is 6 hours again.
    [v] = check(PRAGUE_NY, "Europe/Prague", WINDOW, counts, today=date(2026, 3, 30))
    assert v.local == ("03:00–11:00",)
    # London is an hour behind Prague all year, across Europe's change (both move the
    # same night): 08:00-16:00 there is fine; 08:30-16:00 in Prague is 07:30 in London.
    london = {"Europe/London": 5}
    assert check(PRAGUE_NY, "Europe/Prague", WINDOW, london, today=date(2026, 3, 27)) == []
    early = ActivePeriod(time(8, 30), time(16), frozenset(range(1, 8)))
    [v] = check(early, "Europe/Prague", WINDOW, {"Europe/London": 1}, today=date(2026, 3, 27))
    assert v.local == ("07:30–15:00",)


def test_overnight_period_and_permitted_days() -> None:
    night = ActivePeriod(time(19), time(1), frozenset({5}))
    [v] = check(night, "Europe/Prague", WINDOW, {"Europe/Prague": 2}, today=date(2026, 12, 7))
    assert v.local == ("19:00–01:00 (next day)",)
    weekdays = Permitted.parse("08:00-20:00", "1-5")
    saturday = ActivePeriod(time(10), time(12), frozenset({6}))
    [v] = check(saturday, "Europe/Prague", weekdays, {"Europe/Prague": 2}, today=date(2026, 12, 7))
    assert v.local == ("Sat 10:00–12:00",) and "Mon, Tue, Wed, Thu, Fri" in v.permitted
    prague = {"Europe/Prague": 2}
    assert check(PRAGUE_NY, "Europe/Prague", weekdays, prague, today=date(2026, 12, 7)) == []


def test_settings_are_read_or_refused_clearly() -> None:
    assert parse_days("1-5,7") == frozenset({1, 2, 3, 4, 5, 7})
    assert Permitted.parse("08:00-00:00").end == time.max
    for bad in ("8-20", "20:00-08:00", "08:00"):
        with pytest.raises(ValueError):
            Permitted.parse(bad)
    with pytest.raises(ValueError, match="1 \\(Monday\\) to 7"):
        parse_days("0-8")


def test_zones_of_numbers_a_set_counts_in_each_zone() -> None:
    assert zones_of("+12125551234") == ("America/New_York",)
    assert zones_of("+420601000001") == ("Europe/Prague",)
    counts = count_numbers(["+12125551234", "+12125559876", "+420601000001", "+61491570156"])
    assert counts["America/New_York"] == 2 and counts["Europe/Prague"] == 1
    # An Australian mobile may be in any of Australia's zones: counted in each.
    assert counts["Australia/Sydney"] == 1 and counts["Australia/Perth"] == 1


# --- Slack: a mixed Prague and New York list --------------------------------------------

NEW_YORK = [f"+1212555{n:04d}" for n in range(1, 6)]
PRAGUE = [f"+42060100{n:04d}" for n in range(1, 4)]


def add_mixed_campaign(
    sim: RunningSimulator, *, numbers: list[str] | None = None, state: str = "stopped"
) -> int:
    """A list the bot did not upload (made in the dialer), and a campaign on it."""
    numbers = numbers if numbers is not None else PRAGUE + NEW_YORK
    lst = sim.state.add_call_list("Mixed", [{"number": n, "attributes": []} for n in numbers])
    campaign = sim.state.add_campaign(
        {
            "name": "Mixed promo",
            "callerId": "+420222000999",
            "activePeriod": {"startTime": "09:00", "endTime": "17:00", "weekDays": [1, 2, 3, 4, 5]},
            "callLists": [lst["id"]],
            "rescheduleRules": [],
            "ivr": "TUxw53xCBf",
            "endpoint": {"type": "phone", "boostFactor": 1, "maxWaitingCalls": 2},
        },
        state,
    )
    return int(campaign["id"])


def starts(bot: Bot, campaign_id: int) -> list[dict[str, Any]]:
    return [
        r
        for r in bot.sim.requests
        if r["method"] == "PUT" and r["path"] == f"/dialer/campaigns/{campaign_id}/control"
    ]


def sent(bot: Bot, campaign_id: int) -> list[str]:
    """The control commands sent to the dialer for the campaign, in order."""
    return [(r["json"] or {}).get("command") for r in starts(bot, campaign_id)]


def detail_reads(bot: Bot, list_id: int) -> int:
    return sum(
        1
        for r in bot.sim.requests
        if r["method"] == "GET" and r["path"] == f"/dialer/call-lists/{list_id}"
    )


@pytest.fixture(params=["guide", "v2"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[RunningSimulator]:
    s = await start_simulator(
        SimulatorConfig(port=0, username=SIM_USERNAME, password=SIM_PASSWORD, dialect=request.param)
    )
    try:
        yield s
    finally:
        await s.stop()


async def hours_bot(sim: RunningSimulator, fake: FakeSlack, path: Path, **settings: Any) -> Bot:
    b = await start_bot(
        sim,
        fake,
        path,
        bot_timezone="Europe/Prague",
        calling_hours="08:00-20:00",
        **settings,
    )
    await grant(b, OPERATOR, "operator")
    return b


def assert_override_row(request: dict[str, Any]) -> None:
    """The audit row of an admin's run outside the hours of the mixed campaign (5 New York
    numbers), with the reason these tests give."""
    assert request["calling_hours_override"] is True
    assert request["reason"] == "New York numbers were removed"
    assert request["numbers_outside"] == 5
    assert request["zones"] == ["America/New_York"]


async def test_start_warns_with_the_count_and_the_zone_then_reads_the_list_once(
    sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(sim, fake_slack, tmp_path / "b.db")
    try:
        cid = add_mixed_campaign(sim)
        list_id = sim.state.campaigns[cid]["callLists"][0]
        said = texts(await run_as(b, f"start {cid}", OPERATOR))
        assert "Outside the permitted calling hours" in said, said
        assert "5 numbers in America/New_York would be called at" in said
        assert "permitted 08:00–20:00" in said
        assert "Europe/Prague" not in said  # 09:00-17:00 in Prague is fine
        assert "several possible zones is counted in each" in said
        replies = await run_as(b, f"start {cid}", OPERATOR)
        assert "5 numbers in America/New_York" in texts(replies)
        assert detail_reads(b, list_id) == 1, "the list is read once, its counts kept"
        assert b.services.store.list_zones.get(list_id) == {
            "America/New_York": 5,
            "Europe/Prague": 3,
        }
        # Not enforced: the warning does not stop the start.
        token = button_value(replies[-1].args, "control:confirm")
        await click_as(b, "control:confirm", token, OPERATOR)
        assert len(starts(b, cid)) == 1
    finally:
        await stop_bot(b)


async def test_a_list_whose_numbers_cannot_be_read_says_cannot_tell(
    simulator: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(simulator, fake_slack, tmp_path / "b.db", calling_hours_enforce=True)
    try:
        # More numbers than the detail read carries: the rest's zones are unknown.
        cid = add_mixed_campaign(simulator, numbers=[f"+42060200{n:04d}" for n in range(150)])
        replies = await run_as(b, f"start {cid}", OPERATOR)
        said = texts(replies)
        assert "Cannot tell the zones of the numbers of call list" in said, said
        assert has_button(replies[-1].args, "control:confirm"), "cannot tell is not refused"
        said = texts(await run_as(b, f"start {cid}", OPERATOR))
        assert "Cannot tell the zones of the numbers of call list" in said
        list_id = simulator.state.campaigns[cid]["callLists"][0]
        assert detail_reads(b, list_id) == 1, "read once, then cannot tell without asking"
    finally:
        await stop_bot(b)


async def test_enforced_operator_refused_admin_starts_with_an_audited_reason(
    sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(sim, fake_slack, tmp_path / "b.db", calling_hours_enforce=True)
    try:
        cid = add_mixed_campaign(sim)
        replies = await run_as(b, f"start {cid}", OPERATOR)
        said = texts(replies)
        assert "Nothing sent: calling hours are enforced" in said, said
        assert "5 numbers in America/New_York" in said
        assert not has_button(replies[-1].args, "control:confirm")
        # An operator's reason does not lift it.
        said = texts(await run_as(b, f"start {cid} because the list is checked", OPERATOR))
        assert "Only an admin may start it" in said
        assert starts(b, cid) == []
        denied = [r for r in audit_rows(b) if r["outcome"] == "denied"]
        assert len(denied) == 2 and "outside the permitted calling hours" in denied[0]["detail"]

        said = texts(await run_as(b, f"start {cid}", ADMIN))
        assert f"`/dialer start {cid} because <reason>`" in said
        assert starts(b, cid) == []

        replies = await run_as(b, f"start {cid} because New York numbers were removed", ADMIN)
        said = texts(replies)
        assert "you start it anyway because “New York numbers were removed”" in said, said
        token = button_value(replies[-1].args, "control:confirm")
        said = texts(await click_as(b, "control:confirm", token, ADMIN))
        assert "started campaign" in said and "New York numbers were removed" in said
        assert len(starts(b, cid)) == 1
        [entry] = [e for e in b.services.store.audit.history(campaign_id=cid) if e.outcome == "ok"]
        assert_override_row(entry.request)
    finally:
        await stop_bot(b)


async def test_enforced_unpause_refused_pause_not_admin_unpauses_with_an_audited_reason(
    sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(sim, fake_slack, tmp_path / "b.db", calling_hours_enforce=True)
    try:
        cid = add_mixed_campaign(sim, state="running")
        # Pausing never needs calling hours: at once, as always.
        said = texts(await run_as(b, f"pause {cid}", OPERATOR))
        assert "paused campaign" in said and "calling hours" not in said.lower(), said
        assert sent(b, cid) == ["pause"]

        replies = await run_as(b, f"unpause {cid}", OPERATOR)
        said = texts(replies)
        assert "Nothing sent: calling hours are enforced, and unpausing" in said, said
        assert "5 numbers in America/New_York" in said
        assert "Ask an admin: only an admin may unpause it" in said
        assert not has_button(replies[-1].args, "control:confirm")
        said = texts(await run_as(b, f"unpause {cid} because the list is checked", OPERATOR))
        assert "Only an admin may unpause it" in said, said
        assert sent(b, cid) == ["pause"]
        assert sim.state.campaigns[cid]["state"] == sim.state.dialect.state("paused")
        denied = [r for r in audit_rows(b) if r["outcome"] == "denied"]
        assert [r["action"] for r in denied] == ["unpause", "unpause"]
        assert "outside the permitted calling hours" in denied[0]["detail"]

        said = texts(await run_as(b, f"unpause {cid}", ADMIN))
        assert f"`/dialer unpause {cid} because <reason>`" in said, said
        assert "start" not in said

        replies = await run_as(b, f"unpause {cid} because New York numbers were removed", ADMIN)
        said = texts(replies)
        assert "you unpause it anyway because “New York numbers were removed”" in said, said
        token = button_value(replies[-1].args, "control:confirm")
        said = texts(await click_as(b, "control:confirm", token, ADMIN))
        assert "unpaused campaign" in said and "New York numbers were removed" in said, said
        assert sent(b, cid) == ["pause", "unpause"]
        assert sim.state.campaigns[cid]["state"] == sim.state.dialect.state("running")
        [entry] = [
            e
            for e in b.services.store.audit.history(campaign_id=cid)
            if e.outcome == "ok" and e.action == "unpause"
        ]
        assert entry.user_id == ADMIN
        assert_override_row(entry.request)
    finally:
        await stop_bot(b)


async def test_the_unpause_button_is_checked_like_the_command(
    sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(sim, fake_slack, tmp_path / "b.db", calling_hours_enforce=True)
    try:
        cid = add_mixed_campaign(sim, state="paused")
        # The button as the campaign list shows it.
        listing = await run_as(b, "campaigns paused", OPERATOR)
        assert str(cid) in FakeSlack.button_values(listing[-1].args, "control:unpause")
        replies = await click_as(b, "control:unpause", str(cid), OPERATOR)
        said = texts(replies)
        assert "Nothing sent: calling hours are enforced, and unpausing" in said, said
        assert not any(has_button(r.args, "control:confirm") for r in replies)
        said = texts(await click_as(b, "control:unpause", str(cid), ADMIN))
        assert f"`/dialer unpause {cid} because <reason>`" in said, said
        assert sent(b, cid) == []
        denied = [r for r in audit_rows(b) if r["outcome"] == "denied"]
        assert [(r["action"], r["campaign_id"]) for r in denied] == [("unpause", cid)] * 2
    finally:
        await stop_bot(b)


async def test_unpause_inside_the_hours_is_unaffected(
    sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(sim, fake_slack, tmp_path / "b.db", calling_hours_enforce=True)
    try:
        cid = add_mixed_campaign(sim, numbers=PRAGUE, state="paused")
        replies = await run_as(b, f"unpause {cid}", OPERATOR)
        assert "calling hours" not in texts(replies).lower()
        token = button_value(replies[-1].args, "control:confirm")
        said = texts(await click_as(b, "control:confirm", token, OPERATOR))
        assert "unpaused campaign" in said, said
        assert sent(b, cid) == ["unpause"]
        assert [r for r in audit_rows(b) if r["outcome"] == "denied"] == []
        [entry] = [e for e in b.services.store.audit.history(campaign_id=cid) if e.outcome == "ok"]
        assert "calling_hours_override" not in entry.request
    finally:
        await stop_bot(b)


async def test_unpause_warns_when_not_enforced(
    sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(sim, fake_slack, tmp_path / "b.db")
    try:
        cid = add_mixed_campaign(sim, state="paused")
        replies = await run_as(b, f"unpause {cid}", OPERATOR)
        said = texts(replies)
        assert "Outside the permitted calling hours" in said, said
        assert "5 numbers in America/New_York would be called at" in said
        token = button_value(replies[-1].args, "control:confirm")
        await click_as(b, "control:confirm", token, OPERATOR)
        assert sent(b, cid) == ["unpause"]
        assert [r for r in audit_rows(b) if r["outcome"] == "denied"] == []
    finally:
        await stop_bot(b)


@pytest.mark.parametrize(
    ("step", "command"), [("unpause_campaign", "unpause"), ("start_campaign", "start")]
)
async def test_a_workflow_step_cannot_call_people_outside_enforced_hours(
    simulator: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path, step: str, command: str
) -> None:
    b = await hours_bot(simulator, fake_slack, tmp_path / "b.db", calling_hours_enforce=True)
    try:
        cid = add_mixed_campaign(simulator, state="paused" if command == "unpause" else "stopped")
        inputs = {"campaign": str(cid), "user": ADMIN, "reason": "the list is checked"}
        error = step_failed(await run_step(b, step, inputs))
        assert "would call 5 numbers outside the permitted calling hours" in error, error
        assert "Nothing was sent to the dialer" in error
        assert f"/dialer {command} {cid} because <reason>" in error
        assert sent(b, cid) == []
        [row] = [r for r in audit_rows(b) if r["campaign_id"] == cid]
        assert (row["action"], row["outcome"]) == (command, "denied")
        # Pausing by a step is never checked.
        simulator.state.campaigns[cid]["state"] = simulator.state.dialect.state("running")
        await run_step(b, "pause_campaign", {"campaign": str(cid), "user": ADMIN})
        assert sent(b, cid) == ["pause"]
    finally:
        await stop_bot(b)


async def test_unset_calling_hours_checks_nothing(bot: Bot) -> None:
    cid = add_mixed_campaign(bot.sim)
    said = texts(await run_as(bot, f"start {cid}", ADMIN))
    assert "calling hours" not in said.lower()
    assert detail_reads(bot, bot.sim.state.campaigns[cid]["callLists"][0]) == 0


# --- scheduled starts: checked again when due --------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(services_module, "Store", functools.partial(Store, clock=c))
    return c


@pytest.mark.parametrize("command", ["start", "unpause"])
@pytest.mark.parametrize("enforce", [True, False])
async def test_a_scheduled_start_or_unpause_is_checked_again_when_due(
    simulator: RunningSimulator,
    fake_slack: FakeSlack,
    tmp_path: Path,
    clock: Clock,
    enforce: bool,
    command: str,
) -> None:
    b = await hours_bot(simulator, fake_slack, tmp_path / "b.db", calling_hours_enforce=enforce)
    try:
        state = "paused" if command == "unpause" else "stopped"
        cid = add_mixed_campaign(simulator, numbers=PRAGUE, state=state)  # fine when scheduled
        replies = await run_as(b, f"{command} {cid} in 10s", OPERATOR)
        assert "calling hours" not in texts(replies).lower()
        sid = await schedule(b, f"{command} {cid} in 10s", user=OPERATOR)
        # Before it is due, someone adds the New York numbers in the dialer's portal.
        mixed = simulator.state.add_call_list(
            "New York", [{"number": n, "attributes": []} for n in NEW_YORK]
        )
        simulator.state.campaigns[cid]["callLists"].append(mixed["id"])
        clock.advance(15)
        [ran] = [r for r in await b.services.scheduler.run_due() if r.schedule.id == sid]
        [note] = await fake_slack.wait_for(
            "chat.postMessage", lambda c: f"Schedule #{sid}" in c.args["text"]
        )
        said = FakeSlack.texts(note.args)
        assert "5 numbers in America/New_York would be called at" in said, said
        sched = await b.services.store.run(b.services.store.schedules.get, sid)
        assert sched is not None
        if enforce:
            assert ran.result == "outside_hours" and starts(b, cid) == []
            assert "was *not run*: calling hours are enforced" in said
            assert f"`/dialer {command} {cid} because <reason>`" in said, said
            assert sched.state == "failed"
            assert (audit_rows(b)[-1]["action"], audit_rows(b)[-1]["outcome"]) == (
                command,
                "denied",
            )
        else:
            assert ran.result == "ran" and sent(b, cid) == [command]
            assert f"Schedule #{sid} {PAST[command]}" in said, said
    finally:
        await stop_bot(b)


# --- a second person's approval: the override kept, the hours checked again -------------


async def request_approval(b: Bot, text: str, user: str) -> int:
    """Type the command and Confirm it: the request waits for a second person."""
    replies = await run_as(b, text, user)
    await click_as(b, "control:confirm", button_value(replies[-1].args, "control:confirm"), user)
    return b.services.store.approvals.open_requests()[-1].id


def approval_updates(b: Bot) -> str:
    return "\n".join(FakeSlack.texts(c) for c in b.slack.calls_to("chat.update"))


async def test_an_admins_override_approved_by_a_second_person_is_audited_with_the_reason(
    sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(
        sim, fake_slack, tmp_path / "b.db", calling_hours_enforce=True, approval_required="start"
    )
    try:
        cid = add_mixed_campaign(sim)
        approval_id = await request_approval(
            b, f"start {cid} because New York numbers were removed", ADMIN
        )
        assert sent(b, cid) == [], "waits for the second person"
        await decide_as(b, "approve", approval_id, OPERATOR)
        assert sent(b, cid) == ["start"]
        [entry] = [
            e
            for e in b.services.store.audit.history(campaign_id=cid)
            if e.action == "start" and e.outcome == "ok"
        ]
        assert entry.user_id == OPERATOR
        assert entry.request["approval_id"] == approval_id
        assert (entry.request["requested_by"], entry.request["approved_by"]) == (ADMIN, OPERATOR)
        assert_override_row(entry.request)
        assert [r for r in audit_rows(b) if r["outcome"] == "denied"] == []
    finally:
        await stop_bot(b)


@pytest.mark.parametrize("command", ["start", "unpause"])
async def test_a_request_made_inside_the_hours_is_checked_again_when_approved(
    simulator: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path, command: str
) -> None:
    b = await hours_bot(
        simulator,
        fake_slack,
        tmp_path / "b.db",
        calling_hours_enforce=True,
        approval_required="start,unpause",
    )
    try:
        state = "paused" if command == "unpause" else "stopped"
        cid = add_mixed_campaign(simulator, numbers=PRAGUE, state=state)  # fine when asked
        approval_id = await request_approval(b, f"{command} {cid}", OPERATOR)
        # While it waits, someone adds the New York numbers in the dialer's portal.
        ny = simulator.state.add_call_list(
            "New York", [{"number": n, "attributes": []} for n in NEW_YORK]
        )
        simulator.state.campaigns[cid]["callLists"].append(ny["id"])
        await decide_as(b, "approve", approval_id, ADMIN)
        assert sent(b, cid) == [], "nothing sent"
        said = approval_updates(b)
        assert "approved by <@UADMIN>" in said and "*Not run*: calling hours are enforced" in said
        assert "5 numbers in America/New_York would be called at" in said, said
        assert f"`/dialer {command} {cid} because <reason>`" in said, said
        rows = [r for r in audit_rows(b) if r["campaign_id"] == cid]
        assert [(r["action"], r["outcome"]) for r in rows[-2:]] == [
            (f"approve {command}", "ok"),
            (command, "denied"),
        ]
        assert json.loads(rows[-1]["request"])["approval_id"] == approval_id
        assert "outside the permitted calling hours" in rows[-1]["detail"]
        # The decision was taken once: another click changes nothing and sends nothing.
        approval = b.services.store.approvals.get(approval_id)
        assert approval is not None and approval.state == "approved"
        again = texts(await click_as(b, "approval:approve", str(approval_id), ADMIN))
        assert "Already approved" in again, again
        assert sent(b, cid) == []
    finally:
        await stop_bot(b)


async def test_a_request_approved_inside_the_hours_runs_as_before(
    simulator: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(
        simulator,
        fake_slack,
        tmp_path / "b.db",
        calling_hours_enforce=True,
        approval_required="start",
    )
    try:
        cid = add_mixed_campaign(simulator, numbers=PRAGUE)
        approval_id = await request_approval(b, f"start {cid}", OPERATOR)
        assert b.services.store.approvals.get(approval_id).hours_override is None  # type: ignore[union-attr]
        await decide_as(b, "approve", approval_id, ADMIN)
        assert sent(b, cid) == ["start"]
        assert "Not run" not in approval_updates(b)
        assert [r for r in audit_rows(b) if r["outcome"] == "denied"] == []
        [entry] = [
            e
            for e in b.services.store.audit.history(campaign_id=cid)
            if e.action == "start" and e.outcome == "ok"
        ]
        assert "calling_hours_override" not in entry.request and "reason" not in entry.request
    finally:
        await stop_bot(b)


# --- the campaign form and clone: warned before saving -----------------------------------


async def test_clone_warns_before_saving_and_saves_when_submitted_again(
    simulator: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(simulator, fake_slack, tmp_path / "b.db")
    try:
        cid = add_mixed_campaign(simulator)
        await run_as(b, f"clone {cid}", ADMIN)
        view_id, view = await opened_form(b)
        reply = await form_submit(b, view_id, view, state_from_view(view))
        assert reply.status == 200 and reply.json["response_action"] == "errors", reply.json
        said = reply.json["errors"][f.WEEK_DAYS]
        assert "5 numbers in America/New_York would be called at" in said
        assert "Submit again to save anyway" in said
        assert [w for w in writes(b) if w["path"] == "/dialer/campaigns"] == []
        reply = await form_submit(b, view_id, view, state_from_view(view))
        await b.settle()
        assert reply.json["response_action"] == "update", reply.json
        assert len([w for w in writes(b) if w["path"] == "/dialer/campaigns"]) == 1
    finally:
        await stop_bot(b)


async def test_a_new_campaign_within_the_hours_is_saved_at_once(
    simulator: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(simulator, fake_slack, tmp_path / "b.db")
    try:
        view_id, view = await open_form(b)
        reply = await form_submit(b, view_id, view, valid_state())  # Prague lists, 09:00-17:30
        await b.settle()
        assert reply.json["response_action"] == "update", reply.json
        assert len([w for w in writes(b) if w["path"] == "/dialer/campaigns"]) == 1
    finally:
        await stop_bot(b)


# --- lists the bot uploads: counted at upload, counts only -------------------------------


async def test_an_uploaded_list_keeps_its_zone_counts_and_is_never_read_back(
    simulator: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    b = await hours_bot(simulator, fake_slack, tmp_path / "b.db")
    try:
        pasted = "\n".join(["+1 212 555 0101", "+1 212 555 0102", "601 000 001", "601 000 002"])
        await upload_submit(b, upload_form(name="Mixed upload", numbers=pasted))
        await b.settle()
        await upload_click(b, CREATE_ACTION, upload_token(upload_last(b)))
        await b.settle()
        [created] = [c for c in simulator.state.call_lists.values() if c["name"] == "Mixed upload"]
        list_id = created["id"]
        assert b.services.store.list_zones.get(list_id) == {
            "America/New_York": 2,
            "Europe/Prague": 2,
        }
        with b.services.store._lock:
            row = b.services.store.db.execute("SELECT * FROM list_zones").fetchone()
        assert "2125550101" not in str(row) and "601000001" not in str(row)  # counts only
        cid = add_mixed_campaign(simulator, numbers=[])
        simulator.state.campaigns[cid]["callLists"] = [list_id]
        said = texts(await run_as(b, f"start {cid}", OPERATOR))
        assert "2 numbers in America/New_York would be called at" in said, said
        assert detail_reads(b, list_id) == 0
    finally:
        await stop_bot(b)


@pytest.mark.parametrize("name", ["start", "unpause"])
def test_start_and_unpause_take_a_reason_after_because(name: str) -> None:
    cmd = control(name, ["12", "because", "checked", "with", "legal"])
    assert (cmd.name, cmd.campaign_id, cmd.reason) == (name, 12, "checked with legal")
    assert control(name, ["spring", "promo", "because", "ok"]).reason == "ok"
    with pytest.raises(ValueError, match="needs a reason after `because`"):
        control(name, ["12", "because"])
    later = control(name, ["12", "in", "30m"])  # a schedule still reads as one
    assert (later.campaign_id, later.reason, later.when is not None) == (12, None, True)
    assert control("reload", ["12"]).reason is None


async def test_the_demo_script_in_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`CALLING_HOURS=08:00-20:00 BOT_TIMEZONE=Europe/Prague dialer-bot demo --script …`."""
    monkeypatch.setenv("CALLING_HOURS", "08:00-20:00")
    monkeypatch.setenv("BOT_TIMEZONE", "Europe/Prague")
    lines: list[str] = []
    session = await DemoSession.start(db_path=str(tmp_path / "demo.db"), out=lines.append)
    try:
        script = (Path(__file__).parent / "demo_calling_hours_script.txt").read_text("utf-8")
        code = await session.run(ScriptInput(script.splitlines(), session.out))
        text = "\n".join(lines)
        assert code == 0, text[-3000:]
        assert "Week days: Calling hours: 2 numbers in America/New_York" in text
        assert "Campaign Morning NY created (#3)" in text
        assert "2 numbers would be called outside 08:00–20:00 at their local time" in text
        assert session.sim.state.campaigns[3]["state"] == "stopped"  # nothing sent
    finally:
        await session.close()


def test_bad_settings_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="CALLING_HOURS: expected a window such as 08:00-20:00"):
        load_settings(_env_file=None, calling_hours="8-20")
    with pytest.raises(ConfigError, match="CALLING_DAYS: week days run from 1"):
        load_settings(_env_file=None, calling_days="1-9")
    ok = load_settings(_env_file=None, calling_hours="08:00-20:00", calling_days="1-5")
    assert ok.permitted_hours == Permitted(time(8), time(20), frozenset(range(1, 6)))
    assert load_settings(_env_file=None).permitted_hours is None
