"""`dialer-bot demo`: the renderer alone, the console session in-process, the CLI as a process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handlers.blocks import actions, button, context, header, message, section
from simulator.demo.inputs import (
    AnswerError,
    describe_input,
    initial_state,
    input_specs,
    parse_answer,
    state_display,
)
from simulator.demo.render import (
    Names,
    confirm_question,
    mrkdwn,
    render_message,
    uploaded_file_line,
)
from simulator.demo.session import CHANNEL_ID, USER_ID, DemoSession
from simulator.demo.source import ScriptInput

REPO = Path(__file__).resolve().parents[1]
NAMES = Names(users={"U1": "alice"}, channels={"C1": "dialer-ops"})


# ---------------------------------------------------------------------------- renderer


def test_mrkdwn_reads_like_slack_shows_it() -> None:
    text = (
        "*Spring* _promo_ by <@U1> in <#C1> at <!date^1700000000^{date_short}|2023-11-14> "
        "&lt;b&gt; &amp; `*literal*` <https://x.example|docs> :white_check_mark: <@U9>"
    )
    assert mrkdwn(text, NAMES) == (
        "Spring promo by @alice in #dialer-ops at 2023-11-14 <b> & `*literal*` "
        "docs (https://x.example) ✅ @U9"
    )
    assert mrkdwn("snake_case_name and 2*3*4") == "snake_case_name and 2*3*4"
    assert mrkdwn("<#C2|ops>") == "#ops"


def test_message_renders_header_section_fields_context_and_numbered_buttons() -> None:
    msg = message(
        "fallback",
        [
            header("Start campaign #1?"),
            section(
                "You are about to *start* Spring promo.",
                fields=["*Name*\nSpring", "*State*\nstopped"],
            ),
            actions(
                button("Confirm start", "control:confirm", "tok", style="primary"),
                button("Cancel", "control:cancel", "tok"),
                block_id="control:confirm",
            ),
            context("Asked by <@U1>"),
        ],
    )
    out = render_message(msg, NAMES, first=3)
    assert out.lines == [
        "=== Start campaign #1? ===",
        "You are about to start Spring promo.",
        "  Name: Spring",
        "  State: stopped",
        "  [3] Confirm start  [4] Cancel",
        "  Asked by @alice",
    ]
    confirm, cancel = out.buttons
    assert (confirm.number, confirm.action_id, confirm.value, confirm.block_id) == (
        3,
        "control:confirm",
        "tok",
        "control:confirm",
    )
    assert cancel.text == "Cancel"


def test_text_only_message_and_confirm_dialog() -> None:
    assert render_message({"text": "Hi <@U1> &amp; bye"}, NAMES).lines == ["Hi @alice & bye"]
    b = button(
        "Remove",
        "control:remove",
        "1",
        style="danger",
        confirm={"title": "Remove #1?", "text": "*Spring* goes for good.", "confirm": "Remove"},
    )
    question = confirm_question(b["confirm"], NAMES)
    assert question.startswith("Remove #1? — Spring goes for good.")
    assert question.rstrip().endswith("[y/n]")


MODAL = {
    "type": "modal",
    "callback_id": "form",
    "title": {"type": "plain_text", "text": "New campaign"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "hint": {"type": "plain_text", "text": "Unique"},
            "element": {"type": "plain_text_input", "action_id": "v", "max_length": 10},
        },
        {
            "type": "input",
            "block_id": "ivr",
            "label": {"type": "plain_text", "text": "IVR"},
            "element": {
                "type": "static_select",
                "action_id": "v",
                "options": [
                    {"text": {"type": "plain_text", "text": "Survey"}, "value": "Q7"},
                    {"text": {"type": "plain_text", "text": "Outage"}, "value": "TU"},
                ],
                "initial_option": {"text": {"type": "plain_text", "text": "Outage"}, "value": "TU"},
            },
        },
        {
            "type": "input",
            "block_id": "days",
            "optional": True,
            "label": {"type": "plain_text", "text": "Days"},
            "element": {
                "type": "checkboxes",
                "action_id": "v",
                "options": [
                    {"text": {"type": "plain_text", "text": d}, "value": str(i)}
                    for i, d in enumerate(["Mon", "Tue", "Wed"], start=1)
                ],
            },
        },
        {
            "type": "input",
            "block_id": "start",
            "label": {"type": "plain_text", "text": "Start"},
            "element": {"type": "timepicker", "action_id": "v", "initial_time": "09:00"},
        },
    ],
}


def test_modal_inputs_become_slack_state_values() -> None:
    name, ivr, days, start = input_specs(MODAL)
    assert describe_input(name, "")[:2] == ["Name", "  hint: Unique"]
    assert "default: Outage" in describe_input(ivr, state_display(ivr, initial_state(ivr)))[0]
    assert describe_input(ivr, "")[1] == "  1) Survey  2) Outage"
    assert describe_input(days, "")[0].startswith("Days (optional)")
    assert parse_answer(name, "Autumn") == {"type": "plain_text_input", "value": "Autumn"}
    with pytest.raises(AnswerError, match="at most 10"):
        parse_answer(name, "x" * 11)
    assert parse_answer(ivr, "1")["selected_option"]["value"] == "Q7"
    assert parse_answer(ivr, "TU")["selected_option"]["value"] == "TU"
    assert parse_answer(ivr, "survey")["selected_option"]["value"] == "Q7"
    with pytest.raises(AnswerError):
        parse_answer(ivr, "7")
    picked = parse_answer(days, "1-2, Wed")
    assert [o["value"] for o in picked["selected_options"]] == ["1", "2", "3"]
    assert parse_answer(start, "8:30") == {"type": "timepicker", "selected_time": "08:30"}
    with pytest.raises(AnswerError, match="HH:MM"):
        parse_answer(start, "25:00")
    assert initial_state(start) == {"type": "timepicker", "selected_time": "09:00"}
    assert initial_state(days) == {"type": "checkboxes", "selected_options": []}


# ---------------------------------------------------------------------------- in-process session


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


async def test_session_starts_and_pauses_campaign_through_the_bot(session: Any) -> None:
    sim = session.sim
    assert sim.state.campaigns[1]["state"] == "stopped"
    code = await session.run(ScriptInput(["/dialer start 1", "1"], session.out))
    assert code == 0
    assert sim.state.campaigns[1]["state"] == "running"
    text = session.transcript.text
    assert "[1] Confirm start  [2] Cancel" in text
    assert "@alice started campaign Spring promo (#1). Now 🟢 running." in text
    assert "--- dialer-bot (#dialer-ops) ---" in text
    # numbers are never reused: the notification's button comes after the confirmation's two
    assert "[3] Pause" in text

    await session.run(ScriptInput(["3"], session.out))  # press Pause on the notification
    assert sim.state.campaigns[1]["state"] == "paused"
    controls = [r for r in sim.requests if r["path"].endswith("/control")]
    assert [r["json"]["command"] for r in controls] == ["start", "pause"]
    # the console's requests were signed and went through Bolt: the audit log names the user
    audit = session.services.store.audit
    entries = await session.services.store.run(lambda: audit.history(limit=5))
    assert [(e.action, e.outcome, e.user_id) for e in entries] == [
        ("pause", "ok", USER_ID),
        ("start", "ok", USER_ID),
    ]


async def test_script_that_ends_inside_a_dialog_fails(session: Any) -> None:
    # a removal asks y/n in the confirm dialog of its button; the script stops before answering
    # (the listing's buttons are [1]-[7], the removal's confirmation's [8] and [9])
    code = await session.run(ScriptInput(["/dialer campaigns", "3", "8"], session.out))
    assert code == 1
    assert session.sim.state.campaigns[1]["state"] == "stopped"


async def test_unknown_button_number_and_other_commands(session: Any) -> None:
    await session.run(ScriptInput(["7", "/weather", "hello", "# a comment", ""], session.out))
    text = session.transcript.text
    assert "No button [7] on screen" in text
    assert "Only /dialer is installed" in text
    assert "a comment" not in text


async def test_viewer_is_refused_control(tmp_path: Path) -> None:
    out = Transcript()
    s = await DemoSession.start(db_path=str(tmp_path / "v.db"), role="viewer", out=out)
    try:
        await s.run(ScriptInput(["/dialer campaigns", "/dialer start 1"], out))
        assert s.sim.state.campaigns[1]["state"] == "stopped"
    finally:
        await s.close()
    assert "=== Campaigns (2) ===" in out.text
    assert "`start` needs the operator role; you have viewer" in out.text
    assert "Ask @dana for access" in out.text


# ---------------------------------------------------------------------------- modal engine


TEST_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "demo-test:form",
    "title": {"type": "plain_text", "text": "Test form"},
    "submit": {"type": "plain_text", "text": "Save"},
    "private_metadata": "meta-1",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Fill *everything*."}},
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "v", "initial_value": "Draft"},
        },
        {
            "type": "input",
            "block_id": "numbers",
            "label": {"type": "plain_text", "text": "Numbers"},
            "element": {"type": "plain_text_input", "action_id": "v", "multiline": True},
        },
        {
            "type": "input",
            "block_id": "ivr",
            "label": {"type": "plain_text", "text": "IVR"},
            "element": {"type": "external_select", "action_id": "ivr"},
        },
        {
            "type": "input",
            "block_id": "days",
            "label": {"type": "plain_text", "text": "Days"},
            "element": {
                "type": "multi_static_select",
                "action_id": "v",
                "options": [
                    {"text": {"type": "plain_text", "text": d}, "value": str(i)}
                    for i, d in enumerate(["Mon", "Tue", "Wed"], start=1)
                ],
            },
        },
        {
            "type": "input",
            "block_id": "file",
            "optional": True,
            "label": {"type": "plain_text", "text": "CSV"},
            "element": {"type": "file_input", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "boost",
            "label": {"type": "plain_text", "text": "Boost"},
            "element": {"type": "number_input", "action_id": "v", "is_decimal_allowed": True},
        },
        {
            "type": "actions",
            "block_id": "more",
            "elements": [
                {
                    "type": "button",
                    "action_id": "demo-test:add",
                    "value": "x",
                    "text": {"type": "plain_text", "text": "Add note"},
                }
            ],
        },
    ],
}


def _install_test_listeners(session: Any, seen: dict[str, Any]) -> None:
    """A small modal app of our own, so the form engine is tested without the product modals."""
    app = session.app
    client = session.services.client

    @app.action("demo-test:open")
    async def _open(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=TEST_MODAL)

    @app.options("ivr")
    async def _ivr(ack: Any, body: dict[str, Any]) -> None:
        apps = [("Q7", "Customer survey"), ("TU", "Outage announcement")]
        query = body["value"].lower()
        await ack(
            options=[
                {"text": {"type": "plain_text", "text": t}, "value": v}
                for v, t in apps
                if query in t.lower()
            ]
        )

    @app.action("demo-test:add")
    async def _add(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen["add_state"] = body["view"]["state"]["values"]
        view = json.loads(json.dumps(TEST_MODAL))
        view["blocks"].insert(
            -1,
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
        )
        await client.views_update(view_id=body["view"]["id"], view=view)

    @app.view("demo-test:form")
    async def _submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        seen.setdefault("submissions", []).append(values)
        if values["name"]["v"]["value"] == "Draft":
            await ack(response_action="errors", errors={"name": "Pick a real name"})
            return
        await ack()
        seen["metadata"] = view["private_metadata"]
        await client.chat_postMessage(
            channel=CHANNEL_ID, text=f"saved *{values['name']['v']['value']}*"
        )


async def test_modal_form_asks_every_input_and_submits_slack_shaped_state(
    session: Any, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}
    _install_test_listeners(session, seen)
    csv = tmp_path / "numbers.csv"
    csv.write_text("number\n+420777000111\n")
    await session.services.client.chat_postMessage(
        channel=CHANNEL_ID,
        text="open",
        blocks=[actions(button("Open form", "demo-test:open", "1"))],
    )
    session._inputs = ScriptInput([], session.out)
    await session.refresh()
    assert "[1] Open form" in session.transcript.text
    script = [
        "1",  # press Open form
        "",  # Name: keep the default "Draft"
        "+420777000111",
        "+420777000222",
        ".",
        "outage",  # external select: searched through the options listener
        "1, 3",
        str(csv),
        "abc",  # not a number: asked again
        "1.5",
        "1",  # press "Add note": the bot updates the view, answers are kept
        "a note",
        "s",  # submit: the bot refuses the default name
        "Autumn",
        "s",
    ]
    code = await session.run(ScriptInput(script, session.out))
    assert code == 0, session.transcript.text
    first, second = seen["submissions"]
    assert first["name"] == {"v": {"type": "plain_text_input", "value": "Draft"}}
    assert second["name"]["v"]["value"] == "Autumn"
    assert second["numbers"]["v"]["value"] == "+420777000111\n+420777000222"
    assert second["ivr"]["ivr"]["type"] == "external_select"
    assert second["ivr"]["ivr"]["selected_option"]["value"] == "TU"
    assert [o["value"] for o in second["days"]["v"]["selected_options"]] == ["1", "3"]
    files = second["file"]["v"]["files"]
    assert files[0]["name"] == "numbers.csv"
    assert second["boost"]["v"] == {"type": "number_input", "value": "1.5"}
    assert second["note"]["v"]["value"] == "a note"
    assert seen["add_state"]["boost"]["v"]["value"] == "1.5"  # the click carried the state
    assert seen["metadata"] == "meta-1"
    text = session.transcript.text
    assert "✗ Name: Pick a real name" in text
    assert "'abc' is not a number" in text
    assert "saved Autumn" in text
    assert not session.modals
    # the file is served like Slack's: only with the bot token
    import aiohttp

    url = files[0]["url_private_download"]
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as anon:
            assert anon.status == 401
        token = session.services.settings.slack_bot_token.get_secret_value()
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as ok:
            assert await ok.read() == csv.read_bytes()


# ---------------------------------------------------------------------------- the CLI


def _run_cli(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.txt"
    path.write_text(script, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    for name in list(env):
        if name.startswith(("SLACK_", "DIALER_")):
            env.pop(name)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot", "demo", "--script", str(path), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_scripted_session_from_a_file(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    script = (
        "# list, start campaign 1 with its Confirm button, pause it, read the history\n"
        "/dialer campaigns\n"
        "\n"
        "2\n"
        "8\n"
        "/dialer pause 1\n"
        "/dialer history\n"
    )
    done = _run_cli(tmp_path, script, "--db", str(db))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "alice> /dialer campaigns" in out
    assert "Spring promo (#1) — ⏹️ stopped" in out
    assert "[1] Details  [2] Start  [3] Remove" in out
    assert "alice> 2\n" in out
    assert "[8] Confirm start  [9] Cancel" in out  # the listing's [1]-[7] are still on screen
    assert "@alice started campaign Spring promo (#1)" in out
    assert "@alice paused campaign Spring promo (#1)" in out
    assert "--- dialer-bot (#dialer-ops) ---" in out
    history = out.split("=== History ===")[1]
    assert re.search(r"@alice pause #1 → ✅ ok", history)
    assert re.search(r"@alice start #1 → ✅ ok", history)
    assert history.index("pause #1") < history.index("start #1")  # newest first
    assert "# list" not in out  # comments are not inputs
    assert db.exists()  # --db keeps the SQLite file


def test_script_ending_inside_a_form_exits_non_zero(tmp_path: Path) -> None:
    done = _run_cli(tmp_path, "/dialer remove 1\n1\n")
    assert done.returncode == 1
    assert "input ended" in done.stderr


# The bot logs a warning and an error while the demo runs (a lagging loop, a notification
# given up): `home` is made to log them first, as those loggers would mid-session.
NOISY_DEMO = """
import logging, sys
from simulator.demo.session import DemoSession
home = DemoSession.open_home
async def noisy_home(self):
    logging.getLogger("bot.metrics").warning("event loop blocked for 1.2 s")
    logging.getLogger("bot.notify").error("notification 7 to CDEMONOTIFY given up: timeout")
    await home(self)
DemoSession.open_home = noisy_home
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _run_noisy_demo(tmp_path: Path, *args: str) -> str:
    """What the terminal shows (stdout and stderr, interleaved as a person sees them)."""
    path = tmp_path / "script.txt"
    path.write_text("/dialer campaigns\nhome\n/dialer help\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    for name in list(env):
        if name.startswith(("SLACK_", "DIALER_")):
            env.pop(name)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", NOISY_DEMO, "demo", "--script", str(path), *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return done.stdout


def test_log_lines_stay_off_the_terminal_and_go_to_a_file(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    terminal = _run_noisy_demo(tmp_path, "--db", str(db))
    assert "alice> home" in terminal and "=== Campaigns (2) ===" in terminal
    assert "WARNING bot." not in terminal and "ERROR bot." not in terminal
    assert "blocked for 1.2 s" not in terminal
    log = Path(f"{db}.log").read_text(encoding="utf-8")
    assert "WARNING bot.metrics: event loop blocked for 1.2 s" in log
    assert "ERROR bot.notify: notification 7 to CDEMONOTIFY given up" in log
    assert f"{db}.log" in terminal.splitlines()[-1]  # said once, at the end: where they are


def test_verbose_shows_log_lines_on_the_terminal(tmp_path: Path) -> None:
    terminal = _run_noisy_demo(tmp_path, "--verbose", "--db", str(tmp_path / "kept.db"))
    assert "WARNING bot.metrics: event loop blocked for 1.2 s" in terminal
    assert "ERROR bot.notify: notification 7 to CDEMONOTIFY given up" in terminal


def test_a_quiet_demo_leaves_no_log_file(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    done = _run_cli(tmp_path, "/dialer campaigns\n", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert not Path(f"{db}.log").exists()
    assert ".log" not in done.stdout


def _has_subcommand(name: str) -> bool:
    from handlers.commands import SUBCOMMANDS

    return name in SUBCOMMANDS


# ---------------------------------------------------------------------------- with the modals

SCRIPT = REPO / "tests" / "demo_script.txt"
needs_modals = pytest.mark.skipif(
    not (_has_subcommand("upload") and _has_subcommand("new")),
    reason="/dialer upload and /dialer new have not landed yet",
)


@needs_modals
def test_full_demo_script_creates_a_list_and_a_campaign_then_controls_it(tmp_path: Path) -> None:
    done = _run_cli(tmp_path, SCRIPT.read_text(encoding="utf-8"))
    assert done.returncode == 0, done.stderr + done.stdout[-3000:]
    out = done.stdout
    assert "┌─ New call list" in out
    assert "@alice created call list Spring callers (#3) with 2 numbers" in out
    assert "┌─ New campaign" in out
    assert "Campaign Autumn promo created (#3)" in out
    assert "@alice started campaign Autumn promo (#3)" in out
    assert "@alice paused campaign Autumn promo (#3)" in out
    history = out.split("=== History ===")[1]
    for line in ("pause #3 → ✅ ok", "start #3 → ✅ ok", "create_campaign #3 → ✅ ok"):
        assert line in history


@needs_modals
async def test_demo_script_in_process_leaves_the_simulator_in_the_expected_state(
    session: Any,
) -> None:
    lines = SCRIPT.read_text(encoding="utf-8").splitlines()
    cut = lines.index("/dialer pause 3")
    sim = session.sim
    assert await session.run(ScriptInput(lines[:cut], session.out)) == 0
    assert sim.state.call_lists[3]["name"] == "Spring callers"
    assert [n["number"] for n in sim.state.call_list_numbers[3]] == [
        "+420777000111",
        "+420777000222",
    ]
    campaign = sim.state.campaigns[3]
    assert campaign["name"] == "Autumn promo"
    assert campaign["callLists"] == [3]
    assert campaign["activePeriod"]["weekDays"] == [1, 2, 3, 4, 5]
    assert campaign["rescheduleRules"] == [
        {"status": "RS_BUSY", "retryAfter": 900, "maxAttempts": 3}
    ]
    assert campaign["state"] == "running"
    assert await session.run(ScriptInput(lines[cut:], session.out)) == 0
    assert sim.state.campaigns[3]["state"] == "paused"


@pytest.mark.skipif(not _has_subcommand("access"), reason="/dialer access has not landed yet")
def test_uploaded_file_line_counts_csv_rows() -> None:
    content = '\ufeffline,entry,reason\r\n2,"a\nb",x\r\n\r\n5,c,y\r\n'.encode()
    assert uploaded_file_line("invalid-numbers.csv", content) == (
        "📎 invalid-numbers.csv (2 rows) uploaded"
    )
    assert uploaded_file_line("notes.txt", b"abc") == "📎 notes.txt (3 bytes) uploaded"
    assert uploaded_file_line("bad.csv", b"\xff\xfe") == "📎 bad.csv (2 bytes) uploaded"


async def test_a_file_the_bot_shares_shows_as_one_line_in_its_thread(session: Any) -> None:
    client = session.services.client
    parent = await client.chat_postMessage(channel=USER_ID, text="Call list summary")
    rows = "".join(f"{i},bad{i},not a phone number\r\n" for i in range(1, 1235))
    await client.files_upload_v2(
        channel=USER_ID,
        thread_ts=parent["ts"],
        content="line,entry,reason\r\n" + rows,
        filename="invalid-numbers.csv",
        initial_comment="Invalid entries of call list *Spring*: all 1,234.",
    )
    session._inputs = ScriptInput([], session.out)
    await session.refresh()
    text = session.transcript.text
    assert "--- dialer-bot (direct message, in a thread) ---" in text
    assert "Invalid entries of call list Spring: all 1,234." in text
    assert "📎 invalid-numbers.csv (1,234 rows) uploaded" in text
    assert text.index("Call list summary") < text.index("📎 invalid-numbers.csv")


async def test_people_and_mentions_work_like_slack(session: Any) -> None:
    script = [
        "/dialer access grant @bob operator #general",
        "as bob",
        "/dialer pause 2",
        "as nobody",
    ]
    assert await session.run(ScriptInput(script, session.out)) == 0
    grants = await session.services.store.run(session.services.store.grants.all)
    assert [(g.user_id, g.role, g.channel_id) for g in grants] == [
        ("UDEMOBOB", "operator", CHANNEL_ID)
    ]
    text = session.transcript.text
    assert "bob> /dialer pause 2" in text
    assert "No such person here" in text
    assert "needs the operator role" not in text


@pytest.mark.skipif(not _has_subcommand("edit"), reason="/dialer edit has not landed yet")
async def test_edit_form_keeps_defaults_after_double_dot(session: Any) -> None:
    before = dict(session.sim.state.campaigns[2])
    script = ["/dialer edit 2", "Outage Brno 2", "..", "s"]
    assert await session.run(ScriptInput(script, session.out)) == 0, session.transcript.text
    after = session.sim.state.campaigns[2]
    assert after["name"] == "Outage Brno 2"
    # The caller ID goes back as the digits the guide's example shows (+420… → 420…).
    assert after["callerId"] == before["callerId"].lstrip("+")
    assert {k: v for k, v in after.items() if k not in ("name", "callerId")} == {
        k: v for k, v in before.items() if k not in ("name", "callerId")
    }
    assert "│ Queue name: green" in session.transcript.text


def _number(session: Any, label: str) -> str:
    """The number the console shows now for the newest button called `label`."""
    found = re.findall(r"\[(\d+)\] " + re.escape(label), session.transcript.text)
    assert found, f"no [n] {label} button on screen"
    return found[-1]


async def test_scheduled_start_pause_all_and_schedules_in_the_demo(session: Any) -> None:
    """The schedules demo: start 1 in a few seconds (once, announced), list and cancel a
    schedule, and pause every running campaign after one confirmation."""
    sim = session.sim
    assert await session.run(ScriptInput(["/dialer start 1 in 2s"], session.out)) == 0
    script = [_number(session, "Schedule start"), "wait 20"]
    assert await session.run(ScriptInput(script, session.out)) == 0
    text = session.transcript.text
    assert "Schedule #1 started campaign Spring promo (#1)" in text
    assert sim.state.campaigns[1]["state"] == "running"
    starts = [r for r in sim.requests if r["path"].endswith("/control")]
    assert [r["json"]["command"] for r in starts] == ["start"]

    assert await session.run(ScriptInput(["/dialer reload 2 in 1h"], session.out)) == 0
    script = [_number(session, "Schedule reload"), "/dialer schedules"]
    assert await session.run(ScriptInput(script, session.out)) == 0
    assert "Pending schedules (1)" in session.transcript.text
    script = [_number(session, "Cancel #2"), "/dialer schedules"]
    assert await session.run(ScriptInput(script, session.out)) == 0
    text = session.transcript.text
    assert "cancelled schedule #2" in text and "No schedules are pending" in text

    sim.state.campaigns[2]["state"] = "running"
    assert await session.run(ScriptInput(["/dialer pause all"], session.out)) == 0
    assert "Pause 2 running campaigns?" in session.transcript.text
    script = [_number(session, "Pause 2 campaigns")]
    assert await session.run(ScriptInput(script, session.out)) == 0
    assert "paused 2, already paused or not running 0, failed 0" in session.transcript.text
    assert [c["state"] for c in sim.state.campaigns.values()] == ["paused", "paused"]
