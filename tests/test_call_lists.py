"""The call-list flow end to end: signed Slack requests in, fake Slack and the simulator out."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.dialer import DialerClient
from bot.numbers import Counts, Invalid, InvalidFile
from handlers.call_lists import views
from handlers.call_lists.views import CANCEL_ACTION, CREATE_ACTION
from tests.block_checks import assert_escaped, assert_valid_blocks, assert_valid_view
from tests.conftest import ADMIN, Bot, start_bot, stop_bot
from tests.fake_slack import Call, FakeSlack
from tests.slack_driver import select_value, text_value

DM = "DADMIN"
CALL_LISTS = "/dialer/call-lists"


def form(
    name: str | None = "Outage Brno",
    numbers: str | None = None,
    file_id: str | None = None,
    country: str | None = "CZ",
) -> dict[str, Any]:
    files = [{"id": file_id, "name": "list.csv"}] if file_id else []
    return {
        "name": {"value": text_value(name)},
        "numbers": {"value": text_value(numbers)},
        "file": {"value": {"type": "file_input", "files": files}},
        "country": {"value": select_value(country)},
    }


async def submit(bot: Bot, state: dict[str, Any], **kw: Any) -> Any:
    kw.setdefault("private_metadata", json.dumps({"channel": "C0001"}))
    return await bot.driver.submit("call_list_form", state, **kw)


def summaries(bot: Bot) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.update") if _button(c, CREATE_ACTION)] or [
        c for c in bot.slack.calls_to("chat.update") if "Checking" not in FakeSlack.texts(c)
    ]


def last_update(bot: Bot) -> Call:
    updates = bot.slack.calls_to("chat.update")
    assert updates, bot.slack.describe()
    return updates[-1]


def _button(call: Call, action_id: str) -> dict[str, Any] | None:
    return next(iter(FakeSlack.buttons(call, action_id)), None)


def token_of(call: Call) -> str:
    button = _button(call, CREATE_ACTION)
    assert button is not None, FakeSlack.texts(call)
    return button["value"]


def posts(bot: Bot) -> list[dict[str, Any]]:
    return [r for r in bot.sim.requests if r["method"] == "POST" and r["path"] == CALL_LISTS]


async def click(bot: Bot, action_id: str, token: str, **kw: Any) -> Any:
    kw.setdefault("channel_id", DM)
    return await bot.action(action_id, token, **kw)


async def test_upload_and_list_new_open_the_modal(bot: Bot) -> None:
    for text in ("upload", "list new"):
        reply = await bot.command(text)
        assert reply.status == 200
    await bot.settle()
    opened = bot.slack.calls_to("views.open")
    assert len(opened) == 2
    for call in opened:
        view = call.args["view"]
        assert_valid_view(view)
        assert view["callback_id"] == "call_list_form"
        ids = [b["block_id"] for b in view["blocks"]]
        assert ids == ["name", "numbers", "file", "country"]
        assert "3,000 characters" in json.dumps(view) and "CSV" in json.dumps(view)
        assert json.loads(view["private_metadata"]) == {"channel": "C0001"}
    reply = await bot.command("list")
    assert "needs a call list id or name" in reply.text and "/dialer lists" in reply.text


async def test_missing_fields_are_inline_errors(bot: Bot) -> None:
    reply = await submit(bot, form(name="  ", numbers=None))
    assert reply.json is not None and reply.json["response_action"] == "errors"
    assert set(reply.json["errors"]) == {"name", "numbers"}
    reply = await submit(bot, form(numbers="601123456", file_id="F1"))
    assert "not both" in reply.json["errors"]["numbers"]
    reply = await submit(bot, form(numbers="601123456\n" * 400))  # 4,000 characters
    assert (
        "At most 3,000 characters can be pasted (this is 4,000)" in reply.json["errors"]["numbers"]
    )
    await bot.settle()
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_pasted_numbers_summary_create_and_audit(bot: Bot, tmp_path: Path) -> None:
    pasted = "+420 601 123 456\n601123456, 602 000 111; 603000111\nnope\n604 000 111\n12"
    reply = await submit(bot, form(numbers=pasted))
    assert reply.json == {"response_action": "clear"}
    await bot.settle()
    progress = bot.slack.calls_to("chat.postMessage")[0]
    assert progress.args["channel"] == ADMIN and "Checking" in FakeSlack.texts(progress)
    summary = last_update(bot)
    assert_valid_blocks(summary.args["blocks"])
    text = FakeSlack.texts(summary)
    for label, n in (("Read", 7), ("Valid", 4), ("Duplicates dropped", 1), ("Invalid", 2)):
        assert f"*{label}*\n{n}" in text
    assert "line 3: nope" in text and "line 5: 12 — too short" in text
    assert "Create list of 4 numbers" in text
    assert posts(bot) == [], "nothing is sent before the user confirms"

    await click(bot, CREATE_ACTION, token_of(summary))
    await bot.settle()
    [post] = posts(bot)
    assert post["status"] == 201
    assert [n["number"] for n in post["json"]["numbers"]] == [
        "+420601123456",
        "+420602000111",
        "+420603000111",
        "+420604000111",
    ]
    created = [c for c in bot.sim.state.call_lists.values() if c["name"] == "Outage Brno"]
    assert len(created) == 1 and created[0]["numbersCount"] == 4
    result = bot.replies()[-1].args
    assert result["replace_original"] is True and f"(#{created[0]['id']})" in result["text"]
    notes = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "CNOTIFY"]
    assert len(notes) == 1 and "Outage Brno" in FakeSlack.texts(notes[0])

    [entry] = [
        e for e in bot.services.store.audit.history(limit=5) if e.action == "create_call_list"
    ]
    assert entry.outcome == "ok" and entry.channel_id == "C0001"
    assert entry.request["counts"] == {
        "read": 7,
        "valid": 4,
        "duplicates": 1,
        "invalid": 2,
        "excluded": 0,
    }
    assert entry.request["name"] == "Outage Brno"
    # No number, in any form, anywhere in the database: audit log, claims, outbox.
    db = sqlite3.connect(tmp_path / "bot.db")
    tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "audit_log" in tables
    rows = " ".join(json.dumps(r) for t in tables for r in db.execute(f'SELECT * FROM "{t}"'))
    db.close()
    assert "create_call_list" in rows
    for needle in ("601123456", "601 123 456", "602000111", "604 000 111", "nope"):
        assert needle not in rows
    assert not list((tmp_path / "call-list-uploads").glob("*.json")), "body file removed"


def db_text(bot: Bot) -> str:
    """Every row of every table in the bot's database, as one string."""
    db = sqlite3.connect(bot.services.settings.database_path)
    tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    rows = " ".join(json.dumps(r) for t in tables for r in db.execute(f'SELECT * FROM "{t}"'))
    db.close()
    return rows


# Invalid entries are "bad~N": "~" occurs in no hex or base64 (hashes, ids, tokens), so
# finding BAD in the database can only mean an entry was stored.
BAD = "bad~"


def upload_dir_files(bot: Bot) -> list[Path]:
    return list(Path(bot.services.settings.database_path).parent.glob("call-list-uploads/*"))


async def test_first_20_invalid_in_the_summary_all_of_them_in_a_csv_in_its_thread(
    bot: Bot,
) -> None:
    lines = ["601 123 456", "<!channel> call me", '=cmd|" /c calc"!A1'] + [
        f"bad~{i}" for i in range(28)
    ]
    await submit(bot, form(numbers="\n".join(lines)))
    await bot.settle()
    summary = last_update(bot)
    assert_valid_blocks(summary.args["blocks"])
    text = FakeSlack.texts(summary, mrkdwn_only=True)
    assert_escaped(text, allowed_ids=(ADMIN,))
    assert "*Invalid*\n30" in text and "First 20 invalid entries" in text
    assert "line 2: &lt;!channel&gt; call me" in text
    assert "line 21: bad~17" in text and "line 22: bad~18" not in text
    assert "10 more invalid entries: all 30 are in the file invalid-numbers.csv" in text
    assert [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")] == []

    # files_upload_v2: an upload URL for the announced length, the bytes, then the completion
    # that shares the file in the summary's thread.
    [url] = bot.slack.calls_to("files.getUploadURLExternal")
    [sent] = bot.slack.calls_to("file_upload")
    [done] = bot.slack.calls_to("files.completeUploadExternal")
    assert url.args["filename"] == "invalid-numbers.csv"
    assert int(url.args["length"]) == sent.args["size"] and sent.status == 200
    assert done.result["ok"] and done.args["files"][0]["id"] == url.result["file_id"]
    assert done.args["channel_id"] == summary.args["channel"] == ADMIN
    assert done.args["thread_ts"] == summary.args["ts"]
    assert "Invalid entries of call list *Outage Brno*: all 30" in done.args["initial_comment"]
    rows = list(csv.reader(io.StringIO(sent.args["content"].decode("utf-8-sig"), newline="")))
    assert rows[0] == ["line", "entry", "reason"]
    assert len(rows) == 31
    assert rows[1] == ["2", "<!channel> call me", "not a phone number"]
    assert rows[2] == ["3", '\'=cmd|" /c calc"!A1', "not a phone number"]  # no formula
    assert [r[:2] for r in rows[3:]] == [[str(i + 4), f"bad~{i}"] for i in range(28)]
    assert all(r[2] for r in rows[1:])

    # The list is still created from the summary; no entry reached the database, the
    # temporary CSV is gone.
    await click(bot, CREATE_ACTION, token_of(summary))
    await bot.settle()
    assert [len(p["json"]["numbers"]) for p in posts(bot)] == [1]
    stored = db_text(bot)
    assert "create_call_list" in stored
    for needle in (BAD, "calc", "601123456", "601 123 456", "channel> call"):
        assert needle not in stored
    assert upload_dir_files(bot) == []


async def test_upload_refused_gives_one_message_and_create_still_works(bot: Bot) -> None:
    bot.slack.fail_next("files.getUploadURLExternal", status=200, error="missing_scope")
    await submit(bot, form(numbers="601123456\n" + "\n".join(f"bad~{i}" for i in range(25))))
    await bot.settle()
    summary = last_update(bot)
    assert "*Invalid*\n25" in FakeSlack.texts(summary) and "line 21: bad~19" in FakeSlack.texts(
        summary
    )
    assert bot.slack.calls_to("file_upload") == []
    assert bot.slack.calls_to("files.completeUploadExternal") == []
    [note] = [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert note.args["thread_ts"] == summary.args["ts"]
    text = note.args["text"]
    assert "could not be uploaded (Slack said: missing_scope)" in text
    assert "files:write" in text and "The first 20 are in the message above" in text
    assert upload_dir_files(bot) and not list(
        p for p in upload_dir_files(bot) if p.name.endswith(".csv")
    )

    await click(bot, CREATE_ACTION, token_of(summary))
    await bot.settle()
    assert [p["status"] for p in posts(bot)] == [201]
    assert "created call list *Outage Brno*" in bot.replies()[-1].args["text"]
    assert BAD not in db_text(bot)
    assert upload_dir_files(bot) == []


async def test_a_failed_upload_post_is_reported_too(bot: Bot) -> None:
    bot.slack.fail_next("file_upload", status=500, html=True)
    await submit(bot, form(numbers="\n".join(f"bad{i}" for i in range(21))))
    await bot.settle()
    [note] = [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert "(Slack said: the upload was refused, HTTP 500)" in note.args["text"]
    assert bot.slack.calls_to("files.completeUploadExternal") == []
    assert "No valid numbers" in FakeSlack.texts(last_update(bot))


async def test_20_invalid_entries_need_no_file(bot: Bot) -> None:
    await submit(bot, form(numbers="\n".join(f"bad{i}" for i in range(20)) + "\n601123456"))
    await bot.settle()
    text = FakeSlack.texts(last_update(bot))
    assert "line 20: bad19" in text and "more invalid entries" not in text
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
    assert [p for p in upload_dir_files(bot) if p.suffix == ".csv"] == []


async def test_no_region_reports_national_numbers_invalid(bot: Bot) -> None:
    await submit(bot, form(numbers="601 123 456\n+44 20 7946 0958", country=None))
    await bot.settle()
    text = FakeSlack.texts(last_update(bot))
    assert "national number but no country chosen" in text
    assert "Create list of 1 number" in text and "choose the country" in text


async def test_csv_file_is_downloaded_with_the_bot_token(bot: Bot) -> None:
    content = "Name;Phone;City\nJan;601 123 456;Praha\nEva;602 000 111;Brno\nX;123;Y\n"
    bot.slack.add_file("F100", "customers.csv", content.encode())
    await submit(bot, form(file_id="F100"))
    await bot.settle()
    [info] = bot.slack.calls_to("files.info")
    assert info.args["file"] == "F100"
    [download] = bot.slack.calls_to("file_download")
    assert download.status == 200 and download.token_present
    text = FakeSlack.texts(last_update(bot))
    assert "line 4: 123" in text and "Name, City" in text
    await click(bot, CREATE_ACTION, token_of(last_update(bot)))
    await bot.settle()
    [post] = posts(bot)
    assert post["json"]["numbers"][0] == {
        "number": "+420601123456",
        "attributes": [{"name": "Name", "value": "Jan"}, {"name": "City", "value": "Praha"}],
    }
    assert not list(Path(bot.services.settings.database_path).parent.glob("call-list-uploads/*"))


async def test_bad_files_are_shown_inside_the_form(bot: Bot) -> None:
    """Nothing typed is lost: the ack keeps the form open with the error under the file."""
    bot.slack.add_file("FBIN", "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    bot.slack.add_file("FNOCOL", "names.csv", b"name,city\nJan,Praha\n")
    bot.slack.add_file("FXLS", "book.xlsx", b"PK\x03\x04rest", filetype="xlsx")
    bot.slack.add_file("FBIG", "big.csv", b"phone\n" + b"601123456\n" * 120_000)
    bot.services.settings.max_upload_mb = 1
    expected = {
        "FBIN": "binary file",
        "FNOCOL": "No column of phone numbers",
        "FXLS": "not a CSV or text file",
        "FBIG": "the limit is 1.0 MB",
    }
    for file_id, words in expected.items():
        bot.slack.clear()
        reply = await submit(bot, form(file_id=file_id))
        assert reply.json is not None and reply.json["response_action"] == "errors", reply.text
        assert words in reply.json["errors"]["file"], reply.json
        await bot.settle()
        assert bot.slack.calls_to("chat.postMessage") == [], "no message: the form says it"
    assert posts(bot) == []
    assert not list(Path(bot.services.settings.database_path).parent.glob("call-list-uploads/*"))


async def test_a_slow_bad_file_gets_one_clear_message(bot: Bot) -> None:
    """A check that does not fit before the ack goes on after it; its problem is a message."""
    bot.slack.add_file("FNOCOL", "names.csv", b"name,city\nJan,Praha\n")
    bot.slack.set_delay("files.info", 2.5)
    reply = await submit(bot, form(file_id="FNOCOL"))
    assert reply.json == {"response_action": "clear"} or not reply.text, reply.text
    await bot.settle()
    update = last_update(bot)
    text = FakeSlack.texts(update)
    assert "was not created" in text and "No column of phone numbers" in text, text
    assert _button(update, CREATE_ACTION) is None


async def test_a_duplicate_list_name_is_a_warning(bot: Bot) -> None:
    existing = bot.sim.state.call_lists[1]["name"]
    await submit(bot, form(name=existing.upper(), numbers="601123456"))
    await bot.settle()
    summary = summaries(bot)[-1]
    text = FakeSlack.texts(summary)
    assert "already exists (#1)" in text and "Create makes another one" in text
    await click(bot, CREATE_ACTION, token_of(summary))
    await bot.settle()
    assert len(posts(bot)) == 1, "a warning, not a refusal"


async def test_cancel_sends_nothing_and_create_after_cancel_is_refused(bot: Bot) -> None:
    await submit(bot, form(numbers="601123456"))
    await bot.settle()
    token = token_of(last_update(bot))
    await click(bot, CANCEL_ACTION, token)
    await bot.settle()
    assert "cancelled" in bot.replies()[-1].args["text"]
    await click(bot, CREATE_ACTION, token)
    await bot.settle()
    assert "cancelled" in bot.replies()[-1].args["text"]
    assert posts(bot) == []


async def test_double_create_sends_one_post(bot: Bot) -> None:
    await submit(bot, form(numbers="601123456\n602000111"))
    await bot.settle()
    token = token_of(last_update(bot))
    await asyncio.gather(*(click(bot, CREATE_ACTION, token) for _ in range(3)))
    await bot.settle()
    assert len(posts(bot)) == 1
    texts = [r.args["text"] for r in bot.replies()]
    assert sum("Already done" in t for t in texts) == 2
    entries = [e for e in bot.services.store.audit.history() if e.action == "create_call_list"]
    assert len(entries) == 1


async def test_only_the_uploader_and_only_operators(bot: Bot) -> None:
    # Someone without a role: the submission is refused in a DM, nothing is processed.
    await submit(bot, form(numbers="601123456"), user_id="UNOBODY")
    await bot.settle()
    [dm] = bot.slack.calls_to("chat.postMessage")
    assert dm.args["channel"] == "UNOBODY" and "needs the *operator* role" in dm.args["text"]
    assert bot.slack.calls_to("chat.update") == []
    # Another user cannot press the uploader's Create button.
    await submit(bot, form(numbers="601123456"))
    await bot.settle()
    await click(bot, CREATE_ACTION, token_of(last_update(bot)), user_id="UOTHER")
    await bot.settle()
    assert "who uploaded the list" in bot.replies()[-1].args["text"]
    assert posts(bot) == []


@pytest.mark.slow
async def test_commands_ack_fast_while_a_200k_upload_runs(bot: Bot) -> None:
    rnd = random.Random(3)
    rows = "".join(
        f"60{rnd.randrange(1, 9)}{rnd.randrange(10**6):06d},c{i}\n" for i in range(200_000)
    )
    bot.slack.add_file("FBIG", "big.csv", ("phone,customer\n" + rows).encode())
    await submit(bot, form(file_id="FBIG"))
    # The job has started once its progress message is posted.
    await bot.slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == ADMIN)
    await bot.slack.wait_for("file_download", timeout=10)
    elapsed = []
    for _ in range(5):
        reply = await bot.command("help")
        assert reply.status == 200 and "dialer-bot commands" in reply.text
        elapsed.append(reply.elapsed_ms)
    assert summaries(bot) == [], "the job should still be running while we measure"
    assert max(elapsed) < 500, elapsed
    await bot.settle(timeout=120)
    summary = last_update(bot)
    assert _button(summary, CREATE_ACTION) is not None
    text = FakeSlack.texts(summary)
    assert "*Read*\n200,000" in text and "*Invalid*\n0" in text


async def test_streamed_body_is_sent_again_after_a_401(bot: Bot) -> None:
    await submit(bot, form(numbers="601123456\n602000111"))
    await bot.settle()
    await bot.services.dialer.list_ivr()  # the bot holds a token …
    bot.sim.tokens.expire_access_tokens()  # … which the dialer no longer accepts
    await click(bot, CREATE_ACTION, token_of(last_update(bot)))
    await bot.settle()
    assert [p["status"] for p in posts(bot)] == [401, 201]
    assert len(posts(bot)[1]["json"]["numbers"]) == 2
    assert "created call list" in bot.replies()[-1].args["text"]


class CreatedWithoutId(httpx.AsyncBaseTransport):
    """The simulator over real HTTP, with the id taken out of its answer to a call-list
    create: an answer neither dialect gives (``{"message", "numbersCount"}``)."""

    def __init__(self, listing_fails: bool = False) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.listing_fails = listing_fails

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.listing_fails and (request.method, request.url.path) == ("GET", CALL_LISTS):
            await response.aclose()
            return httpx.Response(404, json={"message": "Not found"})
        if (request.method, request.url.path) != ("POST", CALL_LISTS):
            return response
        answer = json.loads(await response.aread())
        await response.aclose()
        answer.pop("id")
        return httpx.Response(response.status_code, json=answer)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_create_answered_without_an_id_finds_the_list_by_its_name(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    dialer = DialerClient(
        simulator.url,
        simulator.auth_url,
        username="demo@example.com",
        password="demo",
        transport=CreatedWithoutId(),
    )
    bot = await start_bot(simulator, fake_slack, tmp_path / "bot.db", dialer=dialer)
    try:
        await submit(bot, form(name="Outage Brno", numbers="601123456\n602000111"))
        await bot.settle()
        await click(bot, CREATE_ACTION, token_of(last_update(bot)))
        await bot.settle()
        [new_id] = [i for i, c in simulator.state.call_lists.items() if c["name"] == "Outage Brno"]
        text = bot.replies()[-1].args["text"]
        assert "created call list *Outage Brno*" in text and f"(#{new_id})" in text, text
        sent = [r["method"] for r in simulator.requests if r["path"] == CALL_LISTS]
        assert sent[sent.index("POST") :] == ["POST", "GET"]  # then the listing that found it
        [entry] = [e for e in bot.services.store.audit.history() if e.action == "create_call_list"]
        assert entry.outcome == "ok" and f"#{new_id}" in (entry.detail or "")
    finally:
        await stop_bot(bot)


async def test_a_create_answered_without_an_id_and_not_found_never_says_nothing_was_created(
    simulator: Any, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    dialer = DialerClient(
        simulator.url,
        simulator.auth_url,
        username="demo@example.com",
        password="demo",
        transport=CreatedWithoutId(listing_fails=True),
    )
    bot = await start_bot(simulator, fake_slack, tmp_path / "bot.db", dialer=dialer)
    try:
        await submit(bot, form(name="Outage Brno", numbers="601123456"))
        await bot.settle()
        await click(bot, CREATE_ACTION, token_of(last_update(bot)))
        await bot.settle()
        text = bot.replies()[-1].args["text"]
        assert "accepted it (HTTP 201)" in text and "look for it before creating it" in text
        assert "Nothing was created" not in text and "upload again" not in text, text
        assert len(posts(bot)) == 1
        # The dialer created it: the audit row says so, in the dialer client's words.
        [entry] = [e for e in bot.services.store.audit.history() if e.action == "create_call_list"]
        assert entry.outcome == "ok" and "accepted it (HTTP 201)" in (entry.detail or "")
    finally:
        await stop_bot(bot)


async def test_lost_answer_is_unknown_and_a_refusal_is_failed(bot: Bot) -> None:
    """The reply and the audit row say the same thing, and the POST is never repeated."""
    tokens = {}
    for name, number in (("Lost", "601123456"), ("Refused", "602000111")):
        await submit(bot, form(name=name, numbers=number))
        await bot.settle()
        tokens[name] = token_of(last_update(bot))
    await bot.services.dialer.list_ivr()  # the token request is not what the faults hit

    bot.sim.faults.set(drop=1, path_prefix=CALL_LISTS)
    await click(bot, CREATE_ACTION, tokens["Lost"])
    await bot.settle()
    assert "not known whether call list *Lost* was created" in bot.replies()[-1].args["text"]
    assert [p["status"] for p in posts(bot)] == [None]  # dropped, and not sent again

    bot.sim.faults.set(status=500, count=1, path_prefix=CALL_LISTS)
    await click(bot, CREATE_ACTION, tokens["Refused"])
    await bot.settle()
    text = bot.replies()[-1].args["text"]
    assert "the dialer answered 500" in text and "Nothing was created" in text

    entries = {
        e.request["name"]: e
        for e in bot.services.store.audit.history(limit=10)
        if e.action == "create_call_list"
    }
    assert (entries["Lost"].outcome, entries["Refused"].outcome) == ("unknown", "failed")
    for entry in entries.values():
        assert entry.detail and entry.duration_ms is not None and entry.channel_id == "C0001"
    assert "500" in (entries["Refused"].detail or "")
    assert [p["status"] for p in posts(bot)] == [None, 500]
    assert bot.services.store.audit.verify().ok


def test_a_cut_file_is_said_in_the_summary_and_with_the_file() -> None:
    cut = InvalidFile(Path("x.invalid.csv"), rows=250_000, cut=True)
    msg = views.summary(
        name="Big <list>",
        counts=Counts(read=400_000, valid=100_000, duplicates=0, invalid=300_000),
        invalid=[Invalid(i, f"bad{i}", "not a phone number") for i in range(1, 21)],
        shown=20,
        invalid_file=cut,
        token="t",
        region="CZ",
        columns=(),
        user_id=ADMIN,
        ttl_min=30,
    )
    assert_valid_blocks(msg["blocks"])
    expected = "the first 250,000 of 300,000 (the file stops at 20 MB) are in the file"
    assert "299,980 more invalid entries: " + expected in FakeSlack.texts(msg)
    comment = views.invalid_file_comment("Big <list>", cut, 300_000)
    assert "*Big &lt;list&gt;*: the first 250,000 of 300,000 (the file stops at 20 MB)" in comment


async def test_excel_unicode_text_is_read_and_other_encodings_name_csv_utf8(bot: Bot) -> None:
    """Excel's "Unicode text" (UTF-16 with a BOM, tabs) reads like its "CSV UTF-8"."""
    rows = "Name\tPhone\tCity\r\nJan\t601 123 456\tPlzeň\r\nX\t123\tY\r\n"
    bot.slack.add_file("FU16", "customers.txt", b"\xff\xfe" + rows.encode("utf-16-le"), "text")
    bot.slack.add_file("FNOBOM", "nobom.txt", rows.encode("utf-16-le"), "text")
    bot.slack.add_file("FANSI", "ansi.csv", rows.replace("\t", ",").encode("cp1250"))
    for file_id in ("FNOBOM", "FANSI"):
        reply = await submit(bot, form(file_id=file_id))
        assert reply.json is not None and reply.json["response_action"] == "errors", reply.text
        assert "CSV UTF-8" in reply.json["errors"]["file"], reply.json
    await submit(bot, form(file_id="FU16"))
    await bot.settle()
    text = FakeSlack.texts(last_update(bot))
    assert "line 3: 123" in text and "Name, City" in text, text
    await click(bot, CREATE_ACTION, token_of(last_update(bot)))
    await bot.settle()
    [post] = posts(bot)
    assert post["json"]["numbers"][0] == {
        "number": "+420601123456",
        "attributes": [{"name": "Name", "value": "Jan"}, {"name": "City", "value": "Plzeň"}],
    }
    assert not list(Path(bot.services.settings.database_path).parent.glob("call-list-uploads/*"))
