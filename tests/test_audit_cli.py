"""`dialer-bot audit verify|export` as an auditor runs it: a separate process on the bot's file."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from store import Store
from store.audit import COLUMNS
from tests.conftest import Bot
from tests.helpers_access import button_value, click_as, run_as

ROOT = Path(__file__).resolve().parent.parent


def cli(db: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot <args>` with only DATABASE_PATH set, as an auditor would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIALER_"))}
    env["DATABASE_PATH"] = str(db)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd or db.parent,  # no stray .env is read
        capture_output=True,
        text=True,
        timeout=60,
    )


async def acli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """cli() off the event loop, so the running bot is not blocked meanwhile."""
    return await asyncio.to_thread(cli, db, *args)


async def make_history(bot: Bot) -> Path:
    """Real entries through the bot: a refusal, a grant, a confirmed start, a pause."""
    await run_as(bot, "start 1", "UNOBODY")
    await run_as(bot, "access grant <@UOPER> operator", "UADMIN")
    replies = await run_as(bot, "start 1", "UOPER")
    await click_as(
        bot, "control:confirm", button_value(replies[-1].args, "control:confirm"), "UOPER"
    )
    await run_as(bot, "pause 1", "UOPER")
    assert bot.sim.state.campaigns[1]["state"] == "paused"
    return Path(bot.services.settings.database_path)


def rows(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY id")]
    finally:
        conn.close()


def tamper(db: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """What someone with the file and the sqlite3 module could do."""
    conn = sqlite3.connect(db)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


async def test_verify_reports_the_chain_intact(bot: Bot) -> None:
    db = await make_history(bot)
    n = len(rows(db))
    assert n >= 6
    done = await acli(db, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{n} entries, chain intact"


async def test_verify_names_an_edited_row(bot: Bot) -> None:
    db = await make_history(bot)
    target = rows(db)[2]["id"]
    tamper(db, "UPDATE audit_log SET user_id = 'USOMEONE' WHERE id = ?", (target,))
    done = await acli(db, "audit", "verify")
    assert done.returncode == 1
    assert f"entry {target}" in done.stdout and "edited" in done.stdout


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="sqlite3 shell not installed")
async def test_verify_after_an_edit_with_the_sqlite3_shell(bot: Bot) -> None:
    db = await make_history(bot)
    target = rows(db)[1]["id"]
    sql = f"UPDATE audit_log SET detail = 'nothing to see' WHERE id = {target};"
    await asyncio.to_thread(subprocess.run, ["sqlite3", str(db), sql], check=True, timeout=30)
    done = await acli(db, "audit", "verify")
    assert done.returncode == 1 and f"entry {target}:" in done.stdout


async def test_verify_names_a_deleted_row(bot: Bot) -> None:
    db = await make_history(bot)
    all_rows = rows(db)
    victim = all_rows[2]["id"]
    tamper(db, "DELETE FROM audit_log WHERE id = ?", (victim,))
    done = await acli(db, "audit", "verify")
    assert done.returncode == 1
    # The chain breaks at the row after the hole: the entry before it was removed.
    assert f"entry {victim + 1}" in done.stdout and "deleted" in done.stdout


async def test_verify_notices_the_last_row_deleted(bot: Bot) -> None:
    db = await make_history(bot)
    last = rows(db)[-1]["id"]
    tamper(db, "DELETE FROM audit_log WHERE id = ?", (last,))
    done = await acli(db, "audit", "verify")
    assert done.returncode == 1 and f"entry {last}" in done.stdout and "deleted" in done.stdout


async def test_verify_names_an_inserted_row(bot: Bot) -> None:
    db = await make_history(bot)
    all_rows = rows(db)
    forged = dict(all_rows[-1])
    forged.update(
        id=all_rows[-1]["id"] + 1,
        user_id="UFORGER",
        action="grant",
        outcome="ok",
        ref_id=None,
        prev_hash=all_rows[1]["hash"],  # chained to a row that is not the last
        hash="f" * 64,
    )
    cols = ", ".join(forged)
    marks = ", ".join("?" for _ in forged)
    tamper(db, f"INSERT INTO audit_log ({cols}) VALUES ({marks})", tuple(forged.values()))
    done = await acli(db, "audit", "verify")
    assert done.returncode == 1
    assert f"entry {forged['id']}" in done.stdout and "inserted" in done.stdout


async def test_verify_notices_a_row_slipped_into_the_middle(bot: Bot) -> None:
    """Make room by renumbering the tail, then insert a self-consistent forged row."""
    from store.audit import row_hash

    db = await make_history(bot)
    all_rows = rows(db)
    at = all_rows[3]["id"]
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        for r in reversed(all_rows[3:]):
            conn.execute("UPDATE audit_log SET id = id + 1 WHERE id = ?", (r["id"],))
        forged = {name: None for name in COLUMNS}
        forged.update(
            id=at,
            ts=all_rows[3]["ts"],
            user_id="UFORGER",
            action="grant",
            outcome="ok",
            prev_hash=all_rows[2]["hash"],
        )
        forged["hash"] = row_hash(forged)
        marks = ", ".join("?" * len(COLUMNS))
        conn.execute(
            f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({marks})",
            [forged[c] for c in COLUMNS],
        )
        conn.commit()
    finally:
        conn.close()
    done = await acli(db, "audit", "verify")
    assert done.returncode == 1
    # The forged row links to its predecessor; the row it pushed aside cannot link to it.
    assert f"entry {at + 1}" in done.stdout and "inserted" in done.stdout


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


async def test_export_round_trip(bot: Bot) -> None:
    db = await make_history(bot)
    stored = rows(db)

    done = await acli(db, "audit", "export", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in done.stdout.splitlines()]
    assert exported == stored

    done = await acli(db, "audit", "export", "--format", "csv")
    assert done.returncode == 0, done.stderr
    reader = csv.DictReader(io.StringIO(done.stdout))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    assert list(reader) == [{k: _as_text(v) for k, v in r.items()} for r in stored]

    out = db.parent / "audit.jsonl"
    done = await acli(db, "audit", "export", "--format", "jsonl", "--output", str(out))
    assert done.returncode == 0 and done.stdout == ""
    assert [json.loads(x) for x in out.read_text().splitlines()] == stored

    # Exported rows can be re-hashed by an auditor without the bot.
    from store.audit import row_hash

    assert all(row_hash(r) == r["hash"] for r in exported)


def test_export_since(tmp_path: Path) -> None:
    db = tmp_path / "since.db"
    now = [datetime(2026, 10, 30, 23, 0, tzinfo=UTC)]
    with Store(db, clock=lambda: now[0]) as store:
        for i in range(3):
            store.audit.record(action="grant", outcome="ok", user_id=f"U{i}", channel_id="C1")
            now[0] += timedelta(days=1)
    done = cli(db, "audit", "export", "--format", "jsonl", "--since", "2026-11-01")
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["user_id"] for x in done.stdout.splitlines()] == ["U2"]
    done = cli(db, "audit", "export", "--format", "csv", "--since", "2026-10-31T23:00:00")
    assert [r["user_id"] for r in csv.DictReader(io.StringIO(done.stdout))] == ["U1", "U2"]
    done = cli(db, "audit", "export", "--format", "csv", "--since", "2027-01-01")
    assert done.stdout.strip().split(",")[0] == "id" and len(done.stdout.splitlines()) == 1


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    Store(db).close()
    done = cli(db, "audit", "export", "--since", "last tuesday")
    assert done.returncode == 2 and "since" in done.stderr and "Traceback" not in done.stderr
    done = cli(tmp_path / "missing.db", "audit", "verify")
    assert done.returncode == 2 and "no database" in done.stderr
    assert not (tmp_path / "missing.db").exists(), "verify must not create an empty log"


def test_export_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`dialer-bot audit export | head`: head leaves after a few lines; no traceback then."""
    db = tmp_path / "many.db"
    with Store(db) as store:
        for i in range(3000):  # far more than a pipe buffer holds
            store.audit.record(action="grant", outcome="ok", user_id=f"U{i}", channel_id="C1")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DIALER_"))}
    env.update(DATABASE_PATH=str(db), PYTHONPATH=str(ROOT))
    for fmt in ("csv", "jsonl"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "audit", "export", "--format", fmt],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()
        proc.stdout.close()  # what head does after its lines
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait(timeout=60)
        proc.stderr.close()
        assert "Traceback" not in err and "BrokenPipeError" not in err, err
        assert err == "" and code == 141, (code, err)  # 128 + SIGPIPE, as `yes | head` gives
