"""`audit backup` while the bot writes, and anchors that catch a rehashed rewrite."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from store import Store
from store.audit import row_hash
from tests.conftest import NOTIFY, Bot
from tests.test_audit_cli import acli, make_history, rows, tamper


async def test_backup_while_the_bot_writes(bot: Bot, tmp_path: Path) -> None:
    db = await make_history(bot)
    stop, warm = threading.Event(), threading.Event()
    written: list[int] = []

    def writer() -> None:  # another process's worth of writes, on its own connection
        with Store(db) as other:
            while not stop.is_set():
                written.append(
                    other.audit.record(action="grant", outcome="ok", user_id="U1", channel_id=None)
                )
                if len(written) >= 20:
                    warm.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert await asyncio.to_thread(warm.wait, 30)
        before = len(written)
        done = await acli(db, "audit", "backup", str(tmp_path / "copy.db"))
        during = len(written) - before
    finally:
        stop.set()
        thread.join()
    assert done.returncode == 0, done.stdout + done.stderr
    assert during > 0  # the writer kept writing while the copy was made
    copied = rows(tmp_path / "copy.db")
    assert done.stdout.startswith(f"backup written to {tmp_path / 'copy.db'}")
    assert f"{len(copied)} entries, chain intact" in done.stdout
    assert 5 < len(copied) <= len(rows(db))
    assert copied == rows(db)[: len(copied)]  # a prefix of the live chain, as it was
    verify = await acli(tmp_path / "copy.db", "audit", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout
    leftovers = await asyncio.to_thread(lambda: list(tmp_path.glob(".copy.db.partial-*")))
    assert leftovers == []


async def test_backup_refuses_to_overwrite(bot: Bot, tmp_path: Path) -> None:
    db = await make_history(bot)
    (tmp_path / "taken.db").write_text("keep me")
    done = await acli(db, "audit", "backup", str(tmp_path / "taken.db"))
    assert done.returncode == 2 and "already exists" in done.stderr
    assert (tmp_path / "taken.db").read_text() == "keep me"


def rewrite_and_rehash(db: Path, entry: int) -> None:
    """The attack a plain chain cannot see: edit entry `entry`, recompute every hash after."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        all_rows = [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY id")]
        prev = all_rows[entry - 2]["hash"] if entry > 1 else "0" * 64
        for row in all_rows[entry - 1 :]:
            if row["id"] == entry:
                row["user_id"] = "UFORGER"
            row["prev_hash"] = prev
            row["hash"] = row_hash(row)
            prev = row["hash"]
            conn.execute(
                "UPDATE audit_log SET user_id = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (row["user_id"], row["prev_hash"], row["hash"], row["id"]),
            )
        conn.commit()
    finally:
        conn.close()


async def test_anchor_is_posted_recorded_and_catches_a_rehashed_rewrite(bot: Bot) -> None:
    db = await make_history(bot)
    head = rows(db)[-1]
    poster = bot.services.anchor
    assert poster.channel == NOTIFY  # AUDIT_ANCHOR_CHANNEL defaults to NOTIFY_CHANNEL
    assert await poster.post() == head["id"]
    [post] = bot.slack.calls_to("chat.postMessage")[-1:]
    assert post.args["channel"] == NOTIFY
    assert post.args["text"] == f"audit head: entry {head['id']}, hash {head['hash']}"
    anchor_row = rows(db)[-1]
    assert anchor_row["action"] == "anchor" and anchor_row["id"] == head["id"] + 1
    assert await poster.post() is None  # nothing new since: no second post

    anchor = f"{head['id']}:{head['hash']}"
    done = await acli(db, "audit", "verify", "--anchor", anchor)
    assert done.returncode == 0, done.stdout
    assert f"entries up to {head['id']} match the anchor" in done.stdout
    plain = await acli(db, "audit", "verify")
    assert f"latest anchor: entry {head['id']}, posted to {NOTIFY}" in plain.stdout

    rewrite_and_rehash(db, 2)
    plain = await acli(db, "audit", "verify")
    assert plain.returncode == 0  # the chain alone is fooled
    done = await acli(db, "audit", "verify", "--anchor", anchor)
    assert done.returncode == 1
    assert f"entry {head['id']} does not match the anchor" in done.stdout


async def test_anchor_at_shutdown_and_a_bad_anchor_argument(bot: Bot) -> None:
    db = await make_history(bot)
    poster = bot.services.anchor
    poster.start()
    await poster.aclose()  # what bot.app.shutdown does
    assert rows(db)[-1]["action"] == "anchor"
    done = await acli(db, "audit", "verify", "--anchor", "7:nothex")
    assert done.returncode == 2 and "--anchor: expected ENTRY:HASH" in done.stderr
    tamper(db, "DELETE FROM audit_log WHERE id > 3")
    done = await acli(db, "audit", "verify", "--anchor", "9:" + "a" * 64)
    assert done.returncode == 1
