"""No secret in logs, database or messages; every outside text escaped; SQL only
with parameters."""

from __future__ import annotations

import ast
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.block_checks import assert_escaped, contains_unescaped_mention
from tests.conftest import SIGNING_SECRET, Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import button_value, click_as, decide_as, grant, run_as
from tests.sim_fixtures import make_simulator  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Pa55-word-that-must-not-leak"
BOT_TOKEN = "xoxb-hardening-0123456789-abcdef"
HOSTILE = "<!channel> <@U123> <http://x|y> &amp;"


def dump_database(path: str) -> str:
    """Every table of the file, as an operator with sqlite3 would see it."""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def everything_sent(fake: FakeSlack) -> str:
    return "\n".join(json.dumps(c.args, default=str) for c in fake.calls)


@pytest.fixture
async def hbot(
    make_simulator: Callable[..., Awaitable[Any]],  # noqa: F811
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> AsyncIterator[Bot]:
    sim = await make_simulator(password=PASSWORD, seed=True)
    b = await start_bot(
        sim,
        fake_slack,
        tmp_path / "bot.db",
        dialer_password=PASSWORD,
        slack_bot_token=BOT_TOKEN,
        approval_required="remove",
    )
    yield b
    await stop_bot(b)


async def test_no_secret_in_logs_database_or_messages(
    hbot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    issued: list[dict[str, Any]] = []
    tokens = hbot.sim.tokens
    original_issue = tokens.issue

    def recording_issue() -> dict[str, Any]:
        pair = original_issue()
        issued.append(pair)
        return pair

    tokens.issue = recording_issue  # type: ignore[method-assign]

    # A full run: log in with username/password, start, pause, refresh, an error, a grant,
    # an approval, a denial.
    replies = await run_as(hbot, "start 1", "UADMIN")
    await click_as(
        hbot, "control:confirm", button_value(replies[-1].args, "control:confirm"), "UADMIN"
    )
    await run_as(hbot, "pause 1", "UADMIN")
    tokens.expire_access_tokens()  # the next call refreshes with the refresh token
    await run_as(hbot, "campaign 1", "UADMIN")
    hbot.sim.faults.set(status=500, count=1, path_prefix="/dialer/campaigns")
    await run_as(hbot, "campaigns", "UADMIN")
    await run_as(hbot, "unpause 99", "UADMIN")  # 404 from the dialer
    await run_as(hbot, "access grant <@UADMIN2|second> admin", "UADMIN")
    replies = await run_as(hbot, "remove 2", "UADMIN")
    await click_as(
        hbot, "control:confirm", button_value(replies[-1].args, "control:confirm"), "UADMIN"
    )
    approval = hbot.services.store.approvals.open_requests()[0]
    await decide_as(hbot, "approve", approval.id, "UADMIN2")
    await run_as(hbot, "remove 1", "UNOBODY")
    await run_as(hbot, "history 50", "UADMIN")
    await hbot.settle()

    assert len(issued) >= 2, "the run logged in and refreshed at least once"
    assert 2 not in hbot.sim.state.campaigns, "the approved remove ran"
    secrets = {
        "dialer password": PASSWORD,
        "bot token": BOT_TOKEN,
        "signing secret": SIGNING_SECRET,
    }
    for n, pair in enumerate(issued):
        secrets[f"access token {n}"] = pair["access_token"]
        secrets[f"refresh token {n}"] = pair["refresh_token"]

    places = {
        "logs": caplog.text,
        "database": dump_database(hbot.services.settings.database_path),
        "messages to Slack": everything_sent(hbot.slack),
    }
    assert "dialer GET" in caplog.text or caplog.records, "logging was captured"
    assert "INSERT INTO" in places["database"]
    for where, text in places.items():
        for what, value in secrets.items():
            assert value not in text, f"{what} found in {where}"


def _rendered(fake: FakeSlack) -> list[tuple[str, str]]:
    """(method, mrkdwn text) of every message and view the bot produced."""
    out = []
    for call in fake.calls:
        if call.method in ("response_url", "chat.postMessage", "chat.update", "chat.postEphemeral"):
            out.append((call.method, FakeSlack.texts(call, mrkdwn_only=True)))
        elif call.method.startswith("views."):
            out.append(
                (call.method, FakeSlack.texts(call.args.get("view") or {}, mrkdwn_only=True))
            )
    return out


async def test_outside_text_is_escaped_everywhere(hbot: Bot) -> None:
    """A hostile campaign name (and call list, IVR and queue names) in every view."""
    state = hbot.sim.state
    state.campaigns[1]["name"] = HOSTILE
    state.campaigns[2]["name"] = HOSTILE + " 2"
    state.campaigns[2]["endpoint"]["queue"] = HOSTILE
    state.call_lists[1]["name"] = HOSTILE
    first_ivr = next(iter(state.ivr))
    state.ivr[first_ivr]["name"] = HOSTILE
    state.ivr[first_ivr]["description"] = HOSTILE
    await run_as(hbot, "subscribe", "UADMIN", channel="C0001")

    await run_as(hbot, "campaigns", "UADMIN")
    await run_as(hbot, "campaign 1", "UADMIN")
    await run_as(hbot, "campaign 2", "UADMIN")
    await run_as(hbot, "lists", "UADMIN")
    await run_as(hbot, "ivr", "UADMIN")
    replies = await run_as(hbot, "start 1", "UADMIN")  # confirmation
    await click_as(
        hbot, "control:confirm", button_value(replies[-1].args, "control:confirm"), "UADMIN"
    )
    await run_as(hbot, "pause 1", "UADMIN")  # result + notification
    await run_as(hbot, "start 1", "UADMIN")  # not allowed: it is paused
    await grant(hbot, "UADMIN2", "admin")
    replies = await run_as(hbot, "remove 1", "UADMIN")
    await click_as(
        hbot, "control:confirm", button_value(replies[-1].args, "control:confirm"), "UADMIN"
    )
    approval = hbot.services.store.approvals.open_requests()[0]
    await decide_as(hbot, "approve", approval.id, "UADMIN2")
    await run_as(hbot, "history 50", "UADMIN")
    await run_as(hbot, "history #1", "UADMIN")
    await run_as(hbot, "access list", "UADMIN")
    await hbot.settle()

    rendered = _rendered(hbot.slack)
    shown = [text for _, text in rendered if "&lt;!channel&gt;" in text]
    assert len(shown) >= 8, "the hostile name was rendered in the views under test"
    kinds = {m for m, t in rendered if "&lt;!channel&gt;" in t}
    assert {"response_url", "chat.postMessage", "chat.update"} <= kinds
    for method, text in rendered:
        assert_escaped(text, allowed_ids=("UADMIN", "UADMIN2", "C0001", "CNOTIFY"))
        assert not contains_unescaped_mention(text, HOSTILE), method
        assert "<http://x|y>" not in text, f"{method}: a link from outside data: {text[:300]}"
        if "&lt;!channel&gt; &lt;@U123&gt;" in text:
            assert "&amp;amp;" in text, f"{method}: '&amp;' from outside must show as typed"


async def test_hostile_user_name_and_arguments_are_escaped(bot: Bot) -> None:
    reply = await bot.command("history <!here>", user_id="UADMIN", user_name="<!channel>")
    assert reply.json is not None
    assert_escaped(reply.json["text"])
    await run_as(bot, "campaign <!here>", "UADMIN")  # a name: looked up, answered later
    reply = await bot.command("<!everyone>", user_id="UADMIN")
    assert reply.json is not None
    assert_escaped(reply.json["text"])
    await run_as(bot, "start 1", "UNOBODY")
    await run_as(bot, "history", "UADMIN")
    for _, text in _rendered(bot.slack):
        assert_escaped(text, allowed_ids=("UADMIN", "UNOBODY"))


async def test_sql_metacharacters_are_data(bot: Bot) -> None:
    """Names with quotes and SQL end up stored verbatim, and the store is intact."""
    evil = "x'); DROP TABLE grants; --"
    bot.sim.state.campaigns[1]["name"] = evil
    await grant(bot, "UADMIN2", "admin")
    replies = await run_as(bot, "remove 1", "UADMIN")
    await click_as(
        bot, "control:confirm", button_value(replies[-1].args, "control:confirm"), "UADMIN"
    )
    store = bot.services.store
    approval = store.approvals.open_requests()[0]
    assert approval.campaign_name == evil
    assert store.grants.for_user("UADMIN2")[0].role == "admin"
    assert store.audit.verify().ok


# --- SQL only with parameters ---------------------------------------------------------

SQL_METHODS = {"execute", "executemany", "executescript", "query"}
# Interpolations allowed in SQL f-strings: fixed column lists, placeholders and
# module constants, never a value.
SAFE_NAMES = {"COLUMNS", "placeholders", "where", "_BATCH", "marks", "BUSY_TIMEOUT_MS", "steps"}


def _safe_fstring(node: ast.JoinedStr) -> bool:
    for value in node.values:
        if isinstance(value, ast.FormattedValue):
            names = {n.id for n in ast.walk(value.value) if isinstance(n, ast.Name)}
            calls = [n for n in ast.walk(value.value) if isinstance(n, ast.Call)]
            if not names <= SAFE_NAMES | {"len"}:
                return False
            for call in calls:
                func = call.func
                if not (
                    (isinstance(func, ast.Attribute) and func.attr == "join")
                    or (isinstance(func, ast.Name) and func.id == "len")
                ):
                    return False
    return True


def _constant_sql(node: ast.AST, assigned: dict[str, list[ast.AST]]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return _safe_fstring(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _constant_sql(node.left, assigned) and _constant_sql(node.right, assigned)
    if isinstance(node, ast.Name) and node.id in assigned:
        return all(_constant_sql(v, {}) for v in assigned[node.id])
    return False


def _sql_calls(tree: ast.AST) -> list[tuple[ast.Call, dict[str, list[ast.AST]]]]:
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        assigned: dict[str, list[ast.AST]] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                assigned.setdefault(node.target.id, []).append(node.value)
        for node in ast.walk(fn):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_METHODS
                and node.args
                # a database connection, not e.g. Controller.execute
                and re.search(r"\b(db|conn|cursor)\b", ast.unparse(node.func.value))
            ):
                found.append((node, assigned))
    return found


def test_sql_is_parameterized_everywhere() -> None:
    """Every SQL string the bot runs is a constant (or built from constants); values go
    in as parameters. A value pasted into SQL fails this test, naming the line."""
    checked = 0
    offenders = []
    for package in ("bot", "handlers", "store"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for call, assigned in _sql_calls(tree):
                first = call.args[0]
                is_sqlish = not isinstance(first, ast.Constant) or re.search(
                    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|BEGIN|COMMIT|ROLLBACK)\b",
                    str(first.value),
                )
                if not is_sqlish:
                    continue
                checked += 1
                if not _constant_sql(first, assigned):
                    offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert checked > 30, "the scan found the store's SQL"
    # PRAGMA takes no parameters: migrate() formats an int it computed (store/db.py).
    allowed = {p for p in offenders if p.startswith("store/db.py")}
    assert sorted(set(offenders) - allowed) == []
    assert len(allowed) <= 2
