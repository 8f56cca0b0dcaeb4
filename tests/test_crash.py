"""Crash safety and exactly-once, against the real `python -m bot serve` process.

SIGKILL while 200 control commands are in flight, then restart: every command that
reached the dialer has an audit entry, the ones left pending are marked unknown and
announced with the campaigns' current state, and the hash chain still verifies.
Concurrent Confirms (one process, and two processes sharing one database) send
exactly one dialer call; everybody else is told who already did it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.dialer import COMMANDS
from bot.notify import LEASE_S
from store import Store
from store.audit import UNKNOWN_DETAIL
from tests.bot_process import BotProcess, run_cli
from tests.conftest import ADMIN, NOTIFY, start_bot, stop_bot
from tests.fake_slack import FakeSlack

CONTROL_PATH = re.compile(r"^/dialer/campaigns/(\d+)/control$")
STATES = ("stopped", "running", "paused")
FIRST_COMMAND = {"stopped": "start", "running": "pause", "paused": "unpause"}


def control_puts(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.requests if r["method"] == "PUT" and CONTROL_PATH.match(r["path"])]


def put_key(r: dict[str, Any]) -> tuple[int, str]:
    match = CONTROL_PATH.match(r["path"])
    assert match is not None
    return int(match.group(1)), str((r["json"] or {}).get("command"))


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """The simulator's request log has no event: poll it with short waits, bounded."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def add_campaigns(sim: Any, ids: range) -> dict[int, str]:
    """Copies of the seeded campaign 1 in every state, so all three commands apply."""
    template = dict(sim.state.campaigns[1])
    states = {}
    for n, cid in enumerate(ids):
        state = STATES[n % 3]
        sim.state.campaigns[cid] = {**template, "id": cid, "name": f"Crash {cid}", "state": state}
        states[cid] = state
    return states


def issue_token(db_path: Path, command: str, campaign_id: int, state: str) -> str:
    """A Confirm token as `/dialer <command> <id>` would have issued it."""
    store = Store(db_path)
    try:
        return store.claims.issue(
            action=command,
            campaign_id=campaign_id,
            user_id=ADMIN,
            channel_id="C0001",
            payload={"name": f"Crash {campaign_id}", "state": state},
        )
    finally:
        store.close()


# --- 1. SIGKILL with 200 commands in flight ------------------------------------------------


@pytest.mark.slow
async def test_sigkill_with_200_commands_in_flight(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db_path = tmp_path / "bot.db"
    states = add_campaigns(simulator, range(101, 121))
    store = Store(db_path)
    try:
        tokens = [
            store.claims.issue(
                action=FIRST_COMMAND[state],
                campaign_id=cid,
                user_id=ADMIN,
                channel_id="C0001",
                payload={"name": f"Crash {cid}", "state": state},
            )
            for cid, state in states.items()
            if state != "running"
            for _ in range(10)
        ]
    finally:
        store.close()
    pauses = [cid for cid, state in states.items() if state == "running" for _ in range(10)]
    assert len(tokens) + len(pauses) == 200

    first = await BotProcess(
        simulator, fake_slack.api_url, db_path, response_url=fake_slack.response_url("crash")
    ).start()
    second: BotProcess | None = None
    try:
        simulator.faults.set(latency=2.0)  # every dialer API call takes 2 s (not /token)
        replies = await asyncio.gather(
            *[first.driver.action("control:confirm", t) for t in tokens],
            *[first.driver.command(f"pause {cid}") for cid in pauses],
        )
        assert all(r.status == 200 for r in replies)
        assert max(r.elapsed_ms for r in replies) < 3000
        await until(lambda: len(control_puts(simulator)) >= 200, 30, "200 control PUTs")
        assert await first.kill() != 0

        # Let the simulator finish the requests it was sleeping on, so the state the
        # recovery reads is final; then restart on the same database with a healthy dialer.
        await until(
            lambda: all(r["status"] is not None for r in control_puts(simulator)),
            10,
            "the simulator to answer every PUT",
        )
        simulator.faults.clear()
        sent = Counter(put_key(r) for r in control_puts(simulator))
        second = await BotProcess(
            simulator, fake_slack.api_url, db_path, response_url=fake_slack.response_url("after")
        ).start()

        # Killed mid-post, the first bot leaves its claim on an outbox item: the channel's
        # queue (the recovery note is last in it) moves on when that lease runs out.
        [note] = await fake_slack.wait_for(
            "chat.postMessage",
            lambda c: c.args["channel"] == NOTIFY and "restarted while" in FakeSlack.texts(c.args),
            timeout=LEASE_S + 10,
        )
        store = Store(db_path)
        try:
            entries = [
                e
                for e in store.audit.history(limit=10_000)
                if e.action in COMMANDS and e.campaign_id in states
            ]
        finally:
            store.close()

        # Every command that reached the dialer has its audit entry (the other way round
        # need not hold: a command can be recorded and then die before it was sent).
        recorded = Counter((int(e.campaign_id or 0), e.action) for e in entries)
        missing = {k: n - recorded[k] for k, n in sent.items() if recorded[k] < n}
        assert missing == {}, f"dialer calls without audit entry: {missing}"
        assert [e for e in entries if e.outcome == "pending"] == []
        unknown = [e for e in entries if e.outcome == "unknown" and e.detail == UNKNOWN_DETAIL]
        completed = [e for e in entries if e.outcome in ("ok", "failed")]
        assert unknown, "the kill left nothing pending: the test did not test a crash"
        print(f"in flight at SIGKILL: {len(unknown)} unknown, {len(completed)} completed")
        assert len(unknown) + len(completed) == len(entries)

        text = FakeSlack.texts(note.args)
        n = len(unknown)
        assert f"restarted while {n} command{'s were' if n != 1 else ' was'} under way" in text
        listed = re.findall(r"\(#(\d+)\) — now ([^\n]+)", text)
        assert len(listed) == min(15, len(unknown))
        for cid, shown in listed:
            assert simulator.state.campaigns[int(cid)]["state"] in shown, (cid, shown)
        if len(unknown) > 15:
            assert f"and {len(unknown) - 15} more" in text

        code, out = await run_cli("audit", "verify", env=second.env)
        assert code == 0 and "chain intact" in out, out

        # The restarted bot works as before.
        await second.driver.command("campaign 102")
        [answer] = await fake_slack.wait_for(
            "response_url", lambda c: c.args["key"] == "after", timeout=10
        )
        assert "Crash 102" in FakeSlack.texts(answer.args)
    finally:
        await first.close()
        if second is not None:
            await second.close()


# --- 2. exactly one dialer call for many Confirms -----------------------------------------


USERS = [f"UCLICK{i:02d}" for i in range(50)]


def check_one_winner(fake: FakeSlack, sim: Any, keys: list[str]) -> None:
    assert len(control_puts(sim)) == 1
    replies = {c.args["key"]: FakeSlack.texts(c.args) for c in fake.calls_to("response_url")}
    assert sorted(replies) == sorted(keys)
    winners = [k for k, t in replies.items() if "started campaign" in t]
    assert len(winners) == 1, replies
    for key, text in replies.items():
        if key != winners[0]:
            assert "Already done" in text and f"<@{winners[0]}>" in text, text


async def test_50_users_confirm_at_once_one_call(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = await start_bot(
        simulator, fake_slack, tmp_path / "bot.db", dialer_admins=",".join([ADMIN, *USERS])
    )
    try:
        token = issue_token(tmp_path / "bot.db", "start", 1, "stopped")
        replies = await asyncio.gather(
            *[
                bot.action(
                    "control:confirm", token, user_id=u, response_url=fake_slack.response_url(u)
                )
                for u in USERS
            ]
        )
        assert all(r.status == 200 and r.elapsed_ms < 3000 for r in replies)
        await bot.settle()
        check_one_winner(fake_slack, simulator, USERS)
        assert simulator.state.campaigns[1]["state"] == "running"
    finally:
        await stop_bot(bot)


async def test_50_confirms_across_two_processes_one_call(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db_path = tmp_path / "bot.db"
    token = issue_token(db_path, "start", 1, "stopped")
    admins = ",".join([ADMIN, *USERS])
    procs = [
        BotProcess(
            simulator, fake_slack.api_url, db_path, response_url="unused", DIALER_ADMINS=admins
        )
        for _ in range(2)
    ]
    try:
        await asyncio.gather(*[p.start() for p in procs])
        simulator.faults.set(latency=0.3)  # keep the winner's call open while others click
        replies = await asyncio.gather(
            *[
                procs[n % 2].driver.action(
                    "control:confirm", token, user_id=u, response_url=fake_slack.response_url(u)
                )
                for n, u in enumerate(USERS)
            ]
        )
        assert all(r.status == 200 and r.elapsed_ms < 3000 for r in replies)
        await fake_slack.wait_for("response_url", count=len(USERS), timeout=15)
        check_one_winner(fake_slack, simulator, USERS)
        await fake_slack.wait_for(
            "chat.postMessage", lambda c: "started campaign" in FakeSlack.texts(c.args)
        )
        assert len(fake_slack.calls_to("chat.postMessage")) == 1  # one notification
    finally:
        for p in procs:
            await p.close()


async def test_restart_with_the_dialer_down_still_recovers_at_once(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Many pending entries and no dialer: start-up must not try each one in turn."""
    db_path = tmp_path / "bot.db"
    store = Store(db_path)
    try:
        for cid in range(1, 41):
            store.audit.begin(action="start", user_id=ADMIN, channel_id="C0001", campaign_id=cid)
    finally:
        store.close()
    from tests.bot_process import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    proc = BotProcess(
        simulator,
        fake_slack.api_url,
        db_path,
        response_url="unused",
        DIALER_API_URL=dead,
        DIALER_AUTH_URL=dead + "/token",
    )
    try:
        started = time.monotonic()
        await proc.start()
        assert time.monotonic() - started < 10
        [note] = await fake_slack.wait_for(
            "chat.postMessage",
            lambda c: "restarted while 40 commands were under way" in FakeSlack.texts(c.args),
        )
        assert "now unknown" in FakeSlack.texts(note.args)
        code, out = await run_cli("audit", "verify", env=proc.env)
        assert code == 0, out
    finally:
        await proc.close()
