"""The do-not-call list: /dialer dnc by role, the form's do-not-call mode, the export in a
DM, and call lists that leave listed numbers out (against both dialects of the dialer)."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from bot.numbers.normalize import canonical_e164, normalize_number
from handlers.call_lists.upload import upload_dir
from handlers.call_lists.views import CREATE_ACTION
from handlers.grammar import dnc_numbers
from simulator.demo.session import DemoSession
from simulator.demo.source import ScriptInput
from simulator.server import RunningSimulator
from tests.conftest import ADMIN, Bot, assert_everything_sent_is_valid, start_bot, stop_bot
from tests.fake_slack import FakeSlack
from tests.helpers_access import grant, run_as, text_of
from tests.test_call_lists import form, last_update, posts, submit, token_of
from tests.test_demo import Transcript

OPER = "UOPER"
VIEW = "UVIEW"
LISTED = "+420601123456"


@pytest.fixture
async def cz(simulator: Any, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    """A bot reading national numbers as Czech, with an operator and a viewer."""
    b = await start_bot(simulator, fake_slack, tmp_path / "bot.db", default_region="CZ")
    await grant(b, OPER, "operator")
    await grant(b, VIEW, "viewer")
    yield b
    await stop_bot(b)
    assert_everything_sent_is_valid(fake_slack)


@pytest.fixture
async def cz_dialects(
    dialect_sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[Bot]:
    b = await start_bot(dialect_sim, fake_slack, tmp_path / "bot.db", default_region="CZ")
    yield b
    await stop_bot(b)
    assert_everything_sent_is_valid(fake_slack)


def audit(bot: Bot, action: str) -> list[Any]:
    return [e for e in bot.services.store.audit.history(limit=50) if e.action == action]


def without_id(request: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k != "request_id"}


# ---------------------------------------------------------------------------- commands


async def test_add_check_remove_by_role_with_audit_rows(cz: Bot) -> None:
    store = cz.services.store
    # A viewer may not add: refused, audited, nothing listed.
    said = text_of(await run_as(cz, f"dnc add {LISTED}", VIEW))
    assert "`dnc add` needs the *operator* role" in said
    assert store.dnc.count() == 0
    assert [e.outcome for e in audit(cz, "dnc add")] == ["denied"]

    # An operator adds two numbers in two formats, with a reason; sees them in full.
    said = text_of(await run_as(cz, f"dnc add {LISTED}, 602 000 111 because asked by phone", OPER))
    assert "Added 2 numbers to the do-not-call list because asked by phone" in said
    assert LISTED in said and "+420602000111" in said
    assert "cannot tell whether a running campaign's list holds these numbers" in said
    assert store.dnc.count() == 2
    [added, _denied] = audit(cz, "dnc add")
    assert added.outcome == "ok" and added.user_id == OPER
    assert without_id(added.request) == {"numbers": 2, "reason": "asked by phone", "file": None}
    assert "2 of 2 numbers added" in (added.detail or "")

    # Adding again changes nothing and says so.
    said = text_of(await run_as(cz, "dnc add 601123456", OPER))
    assert "Added 0 numbers" in said and "1 was already on it" in said
    assert store.dnc.count() == 2

    # A viewer checks a number written the national way: listed, masked, by whom and why.
    said = text_of(await run_as(cz, "dnc check 601 123 456", VIEW))
    assert "is on the do-not-call list" in said and f"<@{OPER}>" in said
    assert "because asked by phone" in said
    assert "+•••••••••456" in said and LISTED not in said and "masked" in said
    said = text_of(await run_as(cz, "dnc check +420 603 000 111", VIEW))
    assert "is *not* on the do-not-call list" in said

    # Removing is for admins only.
    said = text_of(await run_as(cz, f"dnc remove {LISTED} because complaint withdrawn", OPER))
    assert "`dnc remove` needs the *admin* role" in said
    assert store.dnc.count() == 2
    said = text_of(await run_as(cz, f"dnc remove {LISTED} because complaint withdrawn", ADMIN))
    assert "Removed 1 number from the do-not-call list" in said
    assert store.dnc.count() == 1
    removed = [e for e in audit(cz, "dnc remove") if e.outcome == "ok"]
    assert len(removed) == 1 and removed[0].user_id == ADMIN
    assert removed[0].request["reason"] == "complaint withdrawn"

    # The summary: size and latest changes, no numbers.
    said = text_of(await run_as(cz, "dnc", VIEW))
    assert "holds 1 number" in said
    assert "removed 1 number — complaint withdrawn" in said
    assert "added 2 numbers — asked by phone" in said
    assert "601123456" not in said and "602000111" not in said

    # Nobody without a role sees anything.
    said = text_of(await run_as(cz, "dnc", "UNOBODY"))
    assert "needs the *viewer* role" in said


async def test_typed_entries_that_are_not_numbers_change_nothing(cz: Bot) -> None:
    said = text_of(await run_as(cz, "dnc add 601123456, <!channel> 12", OPER))
    assert "Nothing changed" in said and "&lt;!channel&gt;" in said
    assert "Separate numbers with commas" in said
    assert cz.services.store.dnc.count() == 0
    reply = await cz.command("dnc add", user_id=OPER)
    assert "needs a phone number" in reply.text
    reply = await cz.command("dnc delete 601123456", user_id=OPER)
    assert "did you mean `remove`" in reply.text or "use one of" in reply.text
    reply = await cz.command("dnc check 601123456 602123456", user_id=OPER)
    assert "check takes one number" in reply.text


def test_typed_numbers_are_split_on_commas_or_whole_words() -> None:
    assert dnc_numbers(["+420", "601", "123", "456"]) == ["+420 601 123 456"]
    assert dnc_numbers(["+420601123456", "+420601123457"]) == ["+420601123456", "+420601123457"]
    assert dnc_numbers(["601", "123", "456,", "602", "000", "111"]) == [
        "601 123 456",
        "602 000 111",
    ]


# ---------------------------------------------------------------------------- call lists


async def test_call_list_leaves_listed_numbers_out(cz_dialects: Bot) -> None:
    bot = cz_dialects
    await run_as(bot, f"dnc add {LISTED} because asked", ADMIN)
    # The list holds it as "601 123 456" (national, DEFAULT_REGION=CZ) and in a third form.
    pasted = "601 123 456\n602 000 111\n+420 603 000 111\n00420 601 123 456"
    await submit(bot, form(numbers=pasted, country="CZ"))
    await bot.settle()
    summary = last_update(bot)
    text = FakeSlack.texts(summary)
    assert "*Valid*\n2" in text and "1 number left out" in text
    assert "+•••••••••456" in text and "601123456" not in text.replace("•", "")
    assert "Create list of 2 numbers" in text

    await bot.action(CREATE_ACTION, token_of(summary), channel_id=ADMIN)
    await bot.settle()
    [post] = posts(bot)
    sent = [n["number"] for n in post["json"]["numbers"]]
    assert sent == ["+420602000111", "+420603000111"]
    [entry] = audit(bot, "create_call_list")
    assert entry.outcome == "ok" and entry.request["counts"]["excluded"] == 1


async def test_create_is_refused_when_numbers_were_listed_after_the_check(cz: Bot) -> None:
    await submit(cz, form(numbers="601 123 456\n602 000 111", country="CZ"))
    await cz.settle()
    summary = last_update(cz)
    assert "Create list of 2 numbers" in FakeSlack.texts(summary)
    await run_as(cz, "dnc add 602000111 because asked meanwhile", OPER)
    await cz.action(CREATE_ACTION, token_of(summary), channel_id=ADMIN)
    await cz.settle()
    assert posts(cz) == [], "a list checked before the number was listed is not sent"
    said = text_of(cz.replies())
    assert "added to the do-not-call list after this list was checked" in said
    assert audit(cz, "create_call_list") == []
    assert [p.name for p in upload_dir(cz.services.settings).iterdir()] == []  # body removed


# ---------------------------------------------------------------------------- the form


async def test_upload_through_the_form_adds_a_file(cz: Bot) -> None:
    await run_as(cz, "dnc upload", OPER)
    [opened] = cz.slack.calls_to("views.open")
    view = opened.args["view"]
    assert (
        view["callback_id"] == "call_list_form" and view["title"]["text"] == "Do-not-call numbers"
    )
    meta = json.loads(view["private_metadata"])
    assert meta == {"channel": "C0001", "mode": "dnc"}

    lines = ["phone,name", "+420601123456,Jan", "602 000 111,Eva", "nope,X", "601123456,again"]
    lines += [f"+42060400{i:04d},n" for i in range(30)] + ["", "12,short"]
    cz.slack.add_file("FDNC", "register.csv", ("\n".join(lines) + "\n").encode())
    state = form(name="national register, June", file_id="FDNC", country="CZ")
    reply = await submit(cz, state, user_id=OPER, private_metadata=json.dumps(meta))
    assert reply.json == {"response_action": "clear"}
    await cz.settle()
    summary = last_update(cz)
    text = FakeSlack.texts(summary)
    assert "*Added*\n32" in text and "*Already listed or repeated*\n1" in text
    assert "*Invalid*\n2" in text and "line 4: nope" in text and "line 37: 12 — too short" in text
    assert "From *list.csv*" in text  # the name the form gives, as Slack sends it
    store = cz.services.store
    assert store.dnc.count() == 32
    listing = store.dnc.check(420602000111)
    assert listing is not None and listing.user_id == OPER
    assert listing.reason == "national register, June" and listing.source == "list.csv"
    [entry] = audit(cz, "dnc upload")
    assert entry.outcome == "ok"
    assert without_id(entry.request) == {"reason": "national register, June", "file": "list.csv"}
    assert "32 numbers added" in (entry.detail or "") and "2 invalid of 35 read" in (
        entry.detail or ""
    )
    assert posts(cz) == [], "the do-not-call form sends nothing to the dialer"


async def test_upload_form_is_refused_to_a_viewer(cz: Bot) -> None:
    said = text_of(await run_as(cz, "dnc upload", VIEW))
    assert "`dnc upload` needs the *operator* role" in said
    assert cz.slack.calls_to("views.open") == []
    # A forged submission in the do-not-call mode is refused too.
    meta = json.dumps({"channel": "C0001", "mode": "dnc"})
    await submit(cz, form(name="x", numbers="601123456"), user_id=VIEW, private_metadata=meta)
    await cz.settle()
    assert cz.services.store.dnc.count() == 0
    assert [e.outcome for e in audit(cz, "dnc upload")] == ["denied", "denied"]


# ---------------------------------------------------------------------------- export


async def test_export_is_a_csv_in_the_admins_dm(cz: Bot) -> None:
    await run_as(cz, "dnc add 601123456, 602000111 because asked", OPER)
    said = text_of(await run_as(cz, "dnc export", OPER))
    assert "`dnc export` needs the *admin* role" in said
    assert cz.slack.calls_to("file_upload") == []

    await run_as(cz, "dnc export", ADMIN)
    [sent] = cz.slack.calls_to("file_upload")
    [done] = cz.slack.calls_to("files.completeUploadExternal")
    assert done.args["channel_id"] == ADMIN  # the admin's DM with the bot
    assert "2 numbers" in done.args["initial_comment"]
    rows = list(csv.reader(io.StringIO(sent.args["content"].decode("utf-8-sig"))))
    assert rows[0] == ["number", "added_at", "added_by", "added_by_name", "reason", "source"]
    assert [r[0] for r in rows[1:]] == ["+420601123456", "+420602000111"]
    assert all(r[2] == OPER and r[4] == "asked" for r in rows[1:])
    [entry] = [e for e in audit(cz, "dnc export") if e.outcome == "ok"]
    assert entry.user_id == ADMIN and "2 numbers exported" in (entry.detail or "")


# ---------------------------------------------------------------------------- normalisation


def test_e164_fast_path_agrees_with_phonenumbers_parse() -> None:
    """The parse-free path for numbers already in E.164 form gives what parse() gives, for
    every region's example numbers of every type, and for random digits."""
    samples: list[str] = []
    rng = random.Random(7)
    kinds = [v for k, v in vars(PhoneNumberType).items() if k.isupper() and k != "UNKNOWN"]
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            samples.append(e164)
            for _ in range(5):  # its neighbours: valid or not, and one digit shorter/longer
                tail = "".join(rng.choice("0123456789") for _ in range(3))
                samples += [e164[:-3] + tail, e164[:-4] + tail, e164 + tail[0]]
    codes = list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for _ in range(20_000):
        samples.append(f"+{rng.choice(codes)}{rng.randrange(10 ** rng.randint(5, 12))}")
    fast = 0
    for text in samples:
        quick = canonical_e164(text)
        try:
            slow = phonenumbers.format_number(
                phonenumbers.parse(text, None), PhoneNumberFormat.E164
            )
            valid = phonenumbers.is_valid_number(phonenumbers.parse(text, None))
        except phonenumbers.NumberParseException:
            slow, valid = None, False
        if quick is not None:
            fast += 1
            assert valid and quick == slow, text
        assert normalize_number(text, None)[0] == (slow if valid else None), text
    assert fast > 500  # the fast path is really taken


# ---------------------------------------------------------------------------- the demo


async def test_dnc_in_the_console_demo(tmp_path: Path) -> None:
    """`dialer-bot demo`: alice (an admin there) lists a number, then uploads a call list
    that holds it; the simulator receives the list without it."""
    out = Transcript()
    session = await DemoSession.start(db_path=str(tmp_path / "demo.db"), out=out)
    try:
        script = [
            "/dialer dnc add +420 777 000 111 because asked not to be called",
            "/dialer dnc check +420777000111",
            "/dialer dnc",
            "/dialer upload",
            "Spring callers",
            "+420 777 000 111",
            "+420777000222",
            ".",
            "",
            "",
            "s",
            "1",
        ]
        assert await session.run(ScriptInput(script, session.out)) == 0
        text = out.text
        assert "Added 1 number to the do-not-call list because asked not to be called" in text
        assert "is on the do-not-call list" in text and "holds 1 number" in text
        assert "1 number left out" in text
        [created] = [
            i for i, cl in session.sim.state.call_lists.items() if cl["name"] == "Spring callers"
        ]
        numbers = [n["number"] for n in session.sim.state.call_list_numbers[created]]
        assert numbers == ["+420777000222"]
    finally:
        await session.close()
