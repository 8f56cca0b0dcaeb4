"""The bot's own storage failing under it: no command without a durable audit row, and a
/readyz that says so.

SQLite keeps writing through its open descriptor after the file or its directory is
deleted or replaced, so those writes "succeed" into a file nobody will read. Each fault
here is produced for real where this machine allows it (the directory deleted, the file
replaced, a full tmpfs); read-only and SQLite's own size limit are set on the bot's
connection with SQLite's own PRAGMAs (query_only, max_page_count), since tests run as root
and a file system cannot be remounted read-only while the bot has the file open.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import readiness
from simulator.server import RunningSimulator
from tests.conftest import Bot, start_bot, stop_bot
from tests.fake_slack import FakeSlack


@pytest.fixture
def fresh_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """/readyz keeps its database answer a few seconds; these tests want each one fresh."""
    monkeypatch.setattr(readiness, "DATABASE_CHECK_TTL_S", 0.0)


@pytest.fixture
async def sbot(
    dialect_sim: RunningSimulator, fake_slack: FakeSlack, tmp_path: Path, fresh_checks: None
) -> AsyncIterator[Bot]:
    """A bot whose database lives in a directory of its own, so the test can delete it."""
    b = await start_bot(dialect_sim, fake_slack, tmp_path / "data" / "bot.db")
    yield b
    await stop_bot(b)


def control_calls(bot: Bot) -> list[dict[str, Any]]:
    return [r for r in bot.sim.requests if r["method"] == "PUT" and r["path"].endswith("/control")]


def running(bot: Bot) -> int:
    """Campaign 1, set running as someone in the dialer's portal would, in the dialect's
    own word for it."""
    bot.sim.state.campaigns[1]["state"] = bot.sim.dialect.state("running")
    return 1


async def pause_reply(bot: Bot, campaign_id: int | None = None) -> str:
    campaign_id = running(bot) if campaign_id is None else campaign_id
    key = f"pause{campaign_id}-{len(bot.slack.calls)}"
    reply = await bot.command(f"pause {campaign_id}", response_url=bot.slack.response_url(key))
    assert reply.status == 200 and reply.elapsed_ms < 3000
    await bot.settle()
    return "\n".join(FakeSlack.texts(c.args) for c in bot.replies(key))


async def readyz(bot: Bot) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=bot.url) as http:
        response = await http.get("/readyz")
    return response.status_code, response.json()


def assert_refused_for_storage(bot: Bot, text: str, why: str) -> None:
    assert control_calls(bot) == [], "a control call reached the dialer"
    assert "storage is failing" in text, text
    assert why in text, text
    assert "Nothing was sent to the dialer" in text and "maintainers" in text, text


async def test_deleted_directory_sends_nothing(sbot: Bot) -> None:
    directory = Path(sbot.services.store.path).parent
    shutil.rmtree(directory)
    text = await pause_reply(sbot)
    assert_refused_for_storage(sbot, text, "directory is gone")
    status, body = await readyz(sbot)
    assert status == 503, body
    assert "directory is gone" in body["checks"]["database"]["detail"]


async def test_replaced_file_sends_nothing(sbot: Bot) -> None:
    path = Path(sbot.services.store.path)
    copy = path.with_name("copy.db")
    shutil.copy(path, copy)
    copy.replace(path)  # same name, another inode: what a restore over a live file does
    text = await pause_reply(sbot)
    assert_refused_for_storage(sbot, text, "replaced")
    status, body = await readyz(sbot)
    assert status == 503 and "replaced" in body["checks"]["database"]["detail"]
    # Nothing pending was left in the file the operator will read.
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'pause'").fetchone() == (
            0,
        )


async def test_read_only_database_sends_nothing(sbot: Bot) -> None:
    sbot.services.store.db.conn.execute("PRAGMA query_only = ON")
    text = await pause_reply(sbot)
    assert_refused_for_storage(sbot, text, "readonly")
    status, body = await readyz(sbot)
    assert status == 503 and "readonly" in body["checks"]["database"]["detail"]
    sbot.services.store.db.conn.execute("PRAGMA query_only = OFF")
    assert (await readyz(sbot))[0] == 200
    await pause_reply(sbot)
    assert len(control_calls(sbot)) == 1  # storage back: the pause goes out


async def test_database_at_its_size_limit_sends_nothing(sbot: Bot) -> None:
    conn = sbot.services.store.db.conn
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {int(pages)}")
    text = await pause_reply(sbot)
    assert_refused_for_storage(sbot, text, "max_page_count")
    status, body = await readyz(sbot)
    assert status == 503 and "full" in body["checks"]["database"]["detail"]


async def test_pause_works_and_is_ready_when_storage_is_fine(sbot: Bot) -> None:
    """The checks above fail for their fault, not always."""
    assert (await readyz(sbot))[0] == 200
    campaign_id = running(sbot)
    text = await pause_reply(sbot, campaign_id)
    assert "storage" not in text
    assert len(control_calls(sbot)) == 1
    [entry] = sbot.services.store.audit.history(campaign_id=campaign_id)
    assert entry.action == "pause" and entry.outcome == "ok"


# --- a real full disk: a small tmpfs (needs root and mount; skipped where unavailable) ---


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(path: Path) -> None:
    """Write zeros until the file system says it is full."""
    chunk = bytes(64 * 1024)
    with path.open("wb") as out:
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass


async def test_full_disk_sends_nothing_and_is_not_ready(
    simulator: RunningSimulator, fake_slack: FakeSlack, small_disk: Path, fresh_checks: None
) -> None:
    bot = await start_bot(simulator, fake_slack, small_disk / "bot.db")
    try:
        assert (await readyz(bot))[0] == 200
        filler = small_disk / "filler"
        await asyncio.to_thread(fill, filler)
        status, body = await readyz(bot)
        assert status == 503 and "disk is full" in body["checks"]["database"]["detail"], body
        text = await pause_reply(bot)
        assert_refused_for_storage(bot, text, "disk is full")
        filler.unlink()
        assert (await readyz(bot))[0] == 200
    finally:
        await stop_bot(bot)


async def test_readyz_keeps_its_database_answer_briefly(bot: Bot) -> None:
    """Cheap under frequent probes: within DATABASE_CHECK_TTL_S the answer is reused."""
    assert (await readyz(bot))[0] == 200
    bot.services.store.db.conn.execute("PRAGMA query_only = ON")
    try:
        assert (await readyz(bot))[0] == 200  # the answer of a moment ago
        readiness.DATABASE_CHECK_TTL_S, saved = 0.0, readiness.DATABASE_CHECK_TTL_S
        try:
            status, body = await readyz(bot)
        finally:
            readiness.DATABASE_CHECK_TTL_S = saved
        assert status == 503, json.dumps(body)
    finally:
        bot.services.store.db.conn.execute("PRAGMA query_only = OFF")


# --- another process holding the database: acks never wait for it ----------------------


class OtherProcessLock:
    """Another process's exclusive write transaction on the bot's file, held until
    released (a sqlite3 connection of its own, as another bot process or an operator's
    sqlite3 shell would hold it)."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._conn.close()


async def test_a_locked_database_delays_no_ack(bot: Bot) -> None:
    """While another process holds the write lock, one of the bot's own writes waits for
    it on the store (as an outbox row or a refusal's audit row would); another user's help
    and campaigns are acked at once all the same, and once the lock is gone they get
    their answers."""
    store = bot.services.store
    store.grants.grant("UVIEW", "viewer", None, "UADMIN")
    lock = OtherProcessLock(store.path)
    writing = threading.Event()

    def a_write_that_waits() -> None:
        writing.set()
        store.grants.grant("UOTHER", "viewer", None, "UADMIN")

    waiting = asyncio.ensure_future(store.run(a_write_that_waits))
    try:
        assert await asyncio.to_thread(writing.wait, 5)  # the store's thread now waits
        help_reply = await bot.command("help", user_id="UVIEW")
        listing = await bot.command(
            "campaigns", user_id="UVIEW", response_url=bot.slack.response_url("list")
        )
        for reply in (help_reply, listing):
            assert reply.status == 200 and reply.elapsed_ms < 1000, reply
        help_text = FakeSlack.texts(json.loads(help_reply.text))
        assert "Your role here: *viewer*" in help_text  # the role was read, not guessed
        assert "🔒" in help_text
        assert not waiting.done()  # the write was still waiting all along
    finally:
        lock.release()
    await waiting
    await bot.settle()
    listed = "\n".join(FakeSlack.texts(c.args) for c in bot.replies("list"))
    assert "Spring promo" in listed, listed


async def test_a_lock_held_too_long_is_said_plainly(bot: Bot) -> None:
    """A write that cannot get the lock within the busy timeout: the person is told the
    storage is busy and nothing was sent, and the dialer received nothing."""
    bot.sim.state.campaigns[1]["state"] = bot.sim.dialect.state("running")
    lock = OtherProcessLock(bot.services.store.path)
    try:
        text = await pause_reply(bot, 1)
    finally:
        lock.release()
    assert control_calls(bot) == []
    assert "storage is busy" in text and "Nothing was sent to the dialer" in text, text


async def test_help_without_the_role_when_it_cannot_be_read(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that SQLite keeps locked out (another process in exclusive locking mode,
    which a running bot's open connections prevent here, so it is simulated): the help
    is acked with all commands, unmarked, and says the role could not be read."""

    def locked_out(user_id: str) -> list[Any]:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(bot.services.store.access_grants, "for_user", locked_out)
    reply = await bot.command("help", user_id="UVIEW")
    assert reply.status == 200 and reply.elapsed_ms < 1000
    text = FakeSlack.texts(json.loads(reply.text))
    assert "could not be read just now" in text and "🔒" not in text, text


def test_the_write_ahead_row_is_synced_to_disk(tmp_path: Path) -> None:
    """The pending row's commit is fsynced (synchronous=FULL), so it survives a power loss
    too; other writes keep the connection's NORMAL."""
    from store import Store

    with Store(tmp_path / "bot.db") as store:
        conn = store.db.conn
        seen: list[int] = []

        def begin() -> int:
            seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])
            return store.audit.begin(action="pause", user_id="U1", channel_id="C1")

        pending = store.write_ahead(begin)
        assert seen == [2]  # FULL
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL again
        assert store.audit.get(pending) is not None


async def test_a_pause_sent_but_not_recorded_says_what_the_dialer_did(
    sbot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pending row was written and the pause went out; recording the dialer's answer
    failed. The person hears that the dialer paused it, not "could not" or "nothing was
    sent". Injected: no real fault lets the pending row in and then refuses the next write."""
    audit = sbot.services.store.audit

    def failing_complete(pending_id: int, **kw: Any) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(audit, "complete", failing_complete)
    campaign_id = running(sbot)
    text = await pause_reply(sbot, campaign_id)
    assert len(control_calls(sbot)) == 1
    assert sbot.sim.state.campaigns[campaign_id]["state"] == sbot.sim.dialect.state("paused")
    assert f"pause of campaign #{campaign_id} went out to the dialer" in text, text
    assert "the dialer took it" in text and "disk I/O error" in text, text
    assert "Nothing was sent" not in text and "Could not" not in text, text
    assert f"`/dialer campaign {campaign_id}`" in text and "maintainers" in text, text
