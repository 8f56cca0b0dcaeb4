"""The demo console as a person meets it: button numbers that cannot press
an older message's button by accident, replies in the clicked message's channel, typing in
another channel, abandoning a form, Ctrl-C after an upload, and `--db` keeping the dialer's
data too. Driven like tests/test_demo.py: the real session, or `python -m bot demo`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from simulator.demo import sim_file
from simulator.demo.session import NOTIFY_ID, DemoSession
from simulator.demo.source import ScriptInput

REPO = Path(__file__).resolve().parents[1]


class Transcript(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self)


@pytest.fixture
async def session(tmp_path: Path) -> Any:
    out = Transcript()
    s = await DemoSession.start(db_path=str(tmp_path / "demo.db"), out=out)
    s.transcript = out  # type: ignore[attr-defined]
    yield s
    await s.close()


async def run(session: Any, *lines: str) -> str:
    """Type `lines`; the transcript they produced."""
    before = len(session.transcript)
    assert await session.run(ScriptInput(list(lines), session.out)) == 0
    return "\n".join(session.transcript[before:])


# ---------------------------------------------------------------------------- button numbers


async def test_a_number_never_presses_an_older_messages_button(session: Any) -> None:
    campaigns = session.sim.state.campaigns
    await run(session, "/dialer start 1", "1")  # [1] Confirm start, [2] Cancel
    assert campaigns[1]["state"] == "running"
    # The notification's Pause is [3], not [1]: [1] and [2] belonged to the confirmation.
    assert "  [3] Pause" in session.transcript.text
    # A reply without buttons, then the "1" a person might still have in mind.
    text = await run(session, "/dialer campaign 2", "1")
    assert "No button [1] on screen" in text
    assert campaigns[1]["state"] == "running"  # nothing was paused by accident
    # The older message is still there, so its button still works, under its own number.
    await run(session, "3")
    assert campaigns[1]["state"] == "paused"


async def test_numbers_go_on_across_messages_and_gone_messages_lose_theirs(session: Any) -> None:
    text = await run(session, "/dialer campaigns", "/dialer campaigns")
    first, second = text.split("alice> /dialer campaigns")[1:]
    assert "[1] Details  [2] Start  [3] Remove" in first
    assert "[8] Details  [9] Start  [10] Remove" in second  # the first listing keeps 1-7
    assert {1, 7, 8, 14} <= set(session.buttons)
    await run(session, "9", "16")  # Start from the second listing; its confirmation's Cancel
    assert 15 not in session.buttons and 16 not in session.buttons  # replaced by the answer
    assert session.sim.state.campaigns[1]["state"] == "stopped"


# ---------------------------------------------------------------------------- channels


async def test_typing_in_dialer_ops_runs_and_announces_from_there(session: Any) -> None:
    text = await run(session, ":channel #dialer-ops", "/dialer start 1", "1")
    assert "(you are now typing in #dialer-ops)" in text
    assert "alice in #dialer-ops> /dialer start 1" in text
    assert "from #dialer-ops" in text and "from #general" not in text
    audit = session.services.store.audit
    entries = await session.services.store.run(lambda: audit.history(limit=1))
    assert entries[0].channel_id == NOTIFY_ID
    unknown = await run(session, ":channel #random")
    assert "The channels are #general, #dialer-ops" in unknown
    assert session.who.channel_id == NOTIFY_ID  # unchanged


async def test_a_reply_to_a_click_lands_in_the_clicked_messages_channel(session: Any) -> None:
    await run(session, "/dialer start 1", "1")
    text = await run(session, "3")  # Pause on the notification in #dialer-ops, typed in #general
    assert "--- dialer-bot (only visible to you in #dialer-ops) ---" in text
    assert "from #dialer-ops" in text
    assert session.sim.state.campaigns[1]["state"] == "paused"


async def test_a_grant_scoped_to_dialer_ops_can_be_tried(session: Any) -> None:
    await run(session, "/dialer access grant @bob operator #dialer-ops", "as bob")
    refused = await run(session, "/dialer unpause 2")
    assert "needs the operator role in this channel" in refused
    assert session.sim.state.campaigns[2]["state"] == "paused"
    text = await run(session, ":channel #dialer-ops", "/dialer unpause 2", "1")
    assert "[1] Confirm unpause" in text
    assert session.sim.state.campaigns[2]["state"] == "running"


# ---------------------------------------------------------------------------- forms


async def test_cancel_abandons_a_form_midway_and_sends_nothing(session: Any) -> None:
    before = dict(session.sim.state.campaigns)
    text = await run(session, "/dialer new", "Autumn promo", ":cancel", "/dialer campaigns")
    assert "type :cancel at any question" in text
    assert "form cancelled: nothing was submitted" in text
    assert session.sim.state.campaigns == before
    assert not session.modals and not session.slack.open_views
    assert "=== Campaigns (2) ===" in text  # back at the prompt: the next line is a command
    assert "(no form is open" in await run(session, ":cancel")


async def test_quit_inside_a_form_is_an_answer_and_cancel_still_works(session: Any) -> None:
    text = await run(session, "/dialer new", "quit", ":cancel")
    assert "form cancelled" in text
    assert all(c["name"] != "quit" for c in session.sim.state.campaigns.values())


# ---------------------------------------------------------------------------- the CLI


def _demo(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    for name in list(env):
        if name.startswith(("SLACK_", "DIALER_")):
            env.pop(name)
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bot", "demo", *args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def test_ctrl_c_after_an_upload_stops_without_a_traceback(tmp_path: Path) -> None:
    demo = _demo(tmp_path)
    assert demo.stdin is not None and demo.stdout is not None and demo.stderr is not None
    demo.stdin.write("/dialer upload\nSpring callers\n+420 777 000 111\n.\n\n\ns\n")
    demo.stdin.flush()
    seen = threading.Event()
    lines: list[str] = []

    def read() -> None:
        for line in demo.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if "Create list of 1 number" in line:
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert seen.wait(90), "".join(lines[-20:])
        # Ctrl-C reaches the whole foreground process group: the demo and its pool workers.
        os.killpg(demo.pid, signal.SIGINT)
        code = demo.wait(60)
        err = demo.stderr.read()
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    assert code == 130, err
    assert "(demo stopped)" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_the_numbers_pool_workers_ignore_sigint() -> None:
    from bot.numbers.pool import get_pool, shutdown_pool

    try:
        handler = get_pool().submit(signal.getsignal, signal.SIGINT).result(timeout=60)
    finally:
        shutdown_pool()
    assert handler == signal.SIG_IGN


# ---------------------------------------------------------------------------- --db


async def test_db_keeps_the_dialers_data_so_history_and_state_agree(tmp_path: Path) -> None:
    db = str(tmp_path / "kept.db")
    out = Transcript()
    first = await DemoSession.start(db_path=db, out=out)
    try:
        await first.run(ScriptInput(["/dialer start 1", "1"], out))
        assert first.sim.state.campaigns[1]["state"] == "running"
    finally:
        await first.close()
    assert sim_file.path_for(db).exists()

    out = Transcript()
    second = await DemoSession.start(db_path=db, out=out)
    try:
        assert second.sim.state.campaigns[1]["state"] == "running"
        assert "those of the last run" in "\n".join(second.banner())
        await second.run(ScriptInput(["/dialer pause 1", "/dialer history"], out))
        assert second.sim.state.campaigns[1]["state"] == "paused"
        assert "Cannot pause" not in out.text
    finally:
        await second.close()


async def test_db_with_damaged_or_missing_dialer_data_says_so(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    db.write_bytes(b"")  # a database from before the dialer's data was kept
    s = await DemoSession.start(db_path=str(db), out=Transcript())
    try:
        assert "no simulator data next to the database" in "\n".join(s.banner())
        assert s.sim.state.campaigns[1]["state"] == "stopped"  # the demo data
    finally:
        await s.close()
    kept = sim_file.path_for(str(db))
    assert json.loads(kept.read_text())["version"] == sim_file.VERSION
    kept.write_text('{"version": 1, "fields": {"campaigns": 3}}')
    s = await DemoSession.start(db_path=str(db), out=Transcript())
    try:
        assert "could not read" in "\n".join(s.banner())
        assert len(s.sim.state.campaigns) == 2
    finally:
        await s.close()


def test_sim_file_round_trip_keeps_integer_ids(tmp_path: Path) -> None:
    from simulator.state import SimulatorState

    state = SimulatorState()
    state.campaigns[7] = {"id": 7, "name": "x", "state": "running"}
    state.next_campaign_id = 8
    path = tmp_path / "s.json"
    sim_file.save(path, state)
    again = SimulatorState()
    sim_file.load(path, again)
    assert again.campaigns == {7: {"id": 7, "name": "x", "state": "running"}}
    assert again.next_campaign_id == 8
    with pytest.raises(ValueError):
        sim_file.load(tmp_path / "missing.json", again)
    assert again.next_campaign_id == 8  # a failed load leaves the state as it was
