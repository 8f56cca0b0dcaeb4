"""Store tests on real SQLite files: schema, audit chain, claims, grants, outbox."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from store import Store
from store.audit import GENESIS_HASH, UNKNOWN_DETAIL
from store.db import MIGRATIONS, migrate, open_db, schema_version

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand, so expiry needs no sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(db_path)
    yield s
    s.close()


def _begin(store: Store, campaign_id: int | None = 12, action: str = "start", **kw) -> int:
    return store.audit.begin(
        action=action,
        user_id="U1",
        user_name="alice",
        channel_id="C1",
        team_id="T1",
        campaign_id=campaign_id,
        request={"command": action},
        **kw,
    )


def _raw(db_path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, as an operator (or attacker) would use."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


# --- schema --------------------------------------------------------------------


def test_fresh_file_gets_schema_view_and_wal(db_path: Path) -> None:
    store = Store(db_path)
    try:
        assert db_path.exists()  # parent directory was created
        tables = set(store.db.table_names())
        assert {"audit_log", "claims", "subscriptions", "grants", "outbox"} <= tables
        assert "audit_requests" in store.db.view_names()
        assert set(store.db["audit_log"].columns_dict) == {
            "id",
            "ts",
            "team_id",
            "user_id",
            "user_name",
            "channel_id",
            "action",
            "campaign_id",
            "request",
            "outcome",
            "detail",
            "duration_ms",
            "ref_id",
            "prev_hash",
            "hash",
        }
        conn = store.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert schema_version(store.db) == len(MIGRATIONS)
    finally:
        store.close()


def test_migrations_are_idempotent_and_extendable(db_path: Path) -> None:
    open_db(db_path).close()
    db = open_db(db_path)  # second open: nothing to do, no error
    assert schema_version(db) == len(MIGRATIONS)

    def add_notes(d) -> None:
        d.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")

    assert migrate(db, [*MIGRATIONS, add_notes]) == len(MIGRATIONS) + 1
    assert "notes" in db.table_names()
    migrate(db, [*MIGRATIONS, add_notes])  # already applied: not run again
    with pytest.raises(RuntimeError, match="newer"):
        migrate(db, MIGRATIONS)
    db.close()


def test_failed_migration_leaves_no_trace(db_path: Path) -> None:
    db = open_db(db_path)

    def broken(d) -> None:
        d.execute("CREATE TABLE half (id INTEGER)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        migrate(db, [*MIGRATIONS, broken])
    assert "half" not in db.table_names()
    assert schema_version(db) == len(MIGRATIONS)
    db.close()


def test_outbox_lease_migration_from_the_previous_schema(db_path: Path) -> None:
    # The file as the release before the lease column left it: claims stamped in sent_at.
    before_lease = MIGRATIONS[: [m.__name__ for m in MIGRATIONS].index("_v3_outbox_lease")]
    assert len(before_lease) == 2
    db_path.parent.mkdir(parents=True)
    old = sqlite_utils.Database(sqlite3.connect(db_path, isolation_level=None))
    migrate(old, before_lease)
    assert "lease_until" not in old["outbox"].columns_dict
    claimed_at = "2024-05-01T12:00:00.250Z"
    rows = [
        # (channel, state, sent_at): a claimed head, the item behind it, an unclaimed
        # head elsewhere, and a delivered item whose sent_at is a real delivery time.
        ("C1", "pending", claimed_at),
        ("C1", "pending", None),
        ("C2", "pending", None),
        ("C3", "sent", "2024-05-01T11:00:00.000Z"),
    ]
    for channel, state, sent_at in rows:
        old.execute(
            "INSERT INTO outbox (channel_id, payload, created_at, state, sent_at)"
            " VALUES (?, '{}', '2024-05-01T11:00:00.000Z', ?, ?)",
            [channel, state, sent_at],
        )
    old.close()

    clock = FakeClock(datetime(2024, 5, 1, 12, 0, 20, tzinfo=UTC))
    store = Store(db_path, clock=clock)
    try:
        assert schema_version(store.db) == len(MIGRATIONS)
        assert "outbox_channel_pending" in {i.name for i in store.db["outbox"].indexes}
        head, behind, other, sent = (store.outbox.get(i) for i in range(1, 5))
        # The old claim became a lease ending 30 s after it was taken; sent_at is cleared.
        assert (head.sent_at, head.lease_until) == (None, "2024-05-01T12:00:30.250Z")
        assert (behind.sent_at, behind.lease_until) == (None, None)
        assert (sent.state, sent.sent_at, sent.lease_until) == (
            "sent",
            "2024-05-01T11:00:00.000Z",
            None,
        )
        # Same semantics as before the upgrade: the old claim still holds for its 30 s...
        assert not store.outbox.claim(head.id, lease_s=30)
        assert not store.outbox.claim(behind.id, lease_s=30)  # not its channel's head
        assert store.outbox.claim(other.id, lease_s=30)  # other channels are independent
        clock.advance(seconds=10.5)  # ...and lapses after them
        assert store.outbox.claim(head.id, lease_s=30)
        assert store.outbox.get(head.id).lease_until == "2024-05-01T12:01:00.500Z"
    finally:
        store.close()


def test_approval_override_migration_keeps_waiting_requests(db_path: Path) -> None:
    # A request opened before the column existed still reads, with no override.
    before = MIGRATIONS[: [m.__name__ for m in MIGRATIONS].index("_v12_approval_override")]
    db_path.parent.mkdir(parents=True)
    old = sqlite_utils.Database(sqlite3.connect(db_path, isolation_level=None))
    migrate(old, before)
    old.execute(
        "INSERT INTO approvals (command, campaign_id, requested_by, created_at, expires_at)"
        " VALUES ('start', 7, 'U1', '2024-05-01T11:00:00.000Z', '2024-05-01T13:00:00.000Z')"
    )
    old.close()
    store = Store(db_path, clock=FakeClock())
    try:
        assert schema_version(store.db) == len(MIGRATIONS)
        waiting = store.approvals.get(1)
        assert waiting is not None and waiting.hours_override is None
        override = {"override": "list checked", "outside": 5, "zones": ["America/New_York"]}
        opened = store.approvals.open(
            command="start", campaign_id=7, requested_by="U1", ttl_s=60, hours_override=override
        )
        assert store.approvals.get(opened.id).hours_override == override  # type: ignore[union-attr]
    finally:
        store.close()


def test_outbox_claim_is_a_lease_not_a_delivery_time(db_path: Path) -> None:
    clock = FakeClock()
    store = Store(db_path, clock=clock)
    try:
        item = store.outbox.enqueue("C1", {"text": "one"})
        assert store.outbox.claim(item, lease_s=30)
        claimed = store.outbox.get(item)
        assert (claimed.state, claimed.sent_at) == ("pending", None)
        assert claimed.lease_until == "2024-05-01T12:00:30.000Z"
        clock.advance(seconds=30)
        assert not store.outbox.claim(item, lease_s=30)  # lapses only *after* its end
        clock.advance(milliseconds=1)
        assert store.outbox.claim(item, lease_s=30)
        store.outbox.mark_attempt(item, "Slack answered 503")  # released at once
        assert store.outbox.get(item).lease_until is None
        assert store.outbox.claim(item, lease_s=30)
        clock.advance(seconds=5)
        store.outbox.mark_sent(item, "1.0")
        sent = store.outbox.get(item)
        assert (sent.state, sent.sent_at, sent.lease_until) == (
            "sent",
            "2024-05-01T12:00:35.001Z",
            None,
        )
        assert not store.outbox.claim(item, lease_s=30)  # delivered: never claimed again
    finally:
        store.close()


# --- audit: writing and reading ---------------------------------------------------


def test_begin_then_complete_gives_one_ok_request(store: Store) -> None:
    pending = _begin(store)
    [entry] = store.audit.history()
    assert (entry.id, entry.outcome) == (pending, "pending")

    done = store.audit.complete(pending, outcome="ok", detail="Campaign started", duration_ms=42)
    assert done != pending
    [entry] = store.audit.history()
    assert entry.id == pending
    assert entry.outcome == "ok"
    assert entry.detail == "Campaign started"
    assert entry.duration_ms == 42
    assert entry.request == {"command": "start"}
    assert (entry.user_id, entry.user_name, entry.channel_id, entry.team_id) == (
        "U1",
        "alice",
        "C1",
        "T1",
    )
    assert entry.campaign_id == 12
    assert entry.completion_id == done

    rows = list(store.db.query("SELECT * FROM audit_requests"))
    assert len(rows) == 1 and rows[0]["outcome"] == "ok"
    # The pending row itself was not rewritten.
    raw = list(store.db.query("SELECT id, outcome, ref_id FROM audit_log ORDER BY id"))
    assert raw == [
        {"id": pending, "outcome": "pending", "ref_id": None},
        {"id": done, "outcome": "ok", "ref_id": pending},
    ]


def test_complete_refuses_unknown_or_non_pending_rows(store: Store) -> None:
    with pytest.raises(LookupError):
        store.audit.complete(99, outcome="ok")
    one_shot = store.audit.record(action="pause", outcome="denied", user_id="U", channel_id="C")
    with pytest.raises(ValueError, match="not pending"):
        store.audit.complete(one_shot, outcome="ok")
    pending = _begin(store)
    with pytest.raises(ValueError, match="outcome"):
        store.audit.complete(pending, outcome="pending")
    assert store.audit.verify().ok


def test_latest_completion_wins_in_the_view(store: Store) -> None:
    pending = _begin(store)
    store.audit.mark_unknown_pending()
    store.audit.complete(pending, outcome="failed", detail="late answer", duration_ms=9000)
    entry = store.audit.get(pending)
    assert entry is not None
    assert (entry.outcome, entry.detail) == ("failed", "late answer")
    assert store.audit.verify().ok


def test_history_is_newest_first_and_filters_by_campaign(store: Store) -> None:
    ids = []
    for campaign in (1, 2, 1, 3, 1):
        pid = _begin(store, campaign_id=campaign)
        store.audit.complete(pid, outcome="ok")
        ids.append(pid)
    store.audit.record(
        action="pause", outcome="denied", user_id="U9", channel_id="C", campaign_id=1
    )
    all_entries = store.audit.history(limit=100)
    assert [e.id for e in all_entries] == sorted([e.id for e in all_entries], reverse=True)
    assert len(all_entries) == 6  # one per request, completions folded in
    for_one = store.audit.history(campaign_id=1)
    assert [e.campaign_id for e in for_one] == [1, 1, 1, 1]
    assert for_one[0].outcome == "denied"
    assert [e.id for e in for_one[1:]] == [ids[4], ids[2], ids[0]]
    assert len(store.audit.history(limit=2)) == 2


def test_secrets_are_refused_in_request(store: Store) -> None:
    for bad in (
        {"password": "x"},
        {"Authorization": "Bearer x"},
        {"nested": {"list": [{"Refresh_Token": "x"}]}},
        {"access-token": "x"},
        {"Token": "x"},
        {"client": {"secret": "x"}},
    ):
        with pytest.raises(ValueError, match="secret"):
            store.audit.begin(action="start", user_id="U", channel_id="C", request=bad)
    with pytest.raises(ValueError):
        store.audit.record(
            action="create_campaign",
            outcome="ok",
            user_id="U",
            channel_id="C",
            request={"name": "x", "auth": {"password": "p"}},
        )
    assert store.audit.history() == []  # nothing was written
    store.audit.begin(
        action="create_campaign",
        user_id="U",
        channel_id="C",
        request={"name": "Spring", "callerId": "+420123", "tokens_used": 3},
    )
    assert store.audit.history()[0].request["name"] == "Spring"


def test_hash_follows_the_documented_formula(store: Store, db_path: Path) -> None:
    _begin(store)
    store.audit.record(action="reload", outcome="ok", user_id="U", channel_id="C", detail="é")
    rows = [dict(r) for r in _raw(db_path).execute("SELECT * FROM audit_log ORDER BY id")]
    assert rows[0]["prev_hash"] == GENESIS_HASH == "0" * 64
    for row in rows:
        content = {k: v for k, v in row.items() if k != "hash"}
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row["hash"] == hashlib.sha256(text.encode()).hexdigest()
    assert rows[1]["prev_hash"] == rows[0]["hash"]


# --- audit: chain verification ------------------------------------------------------


def _fill(store: Store, n: int = 3) -> list[int]:
    """n requests, each a pending row and a completion row."""
    ids = []
    for i in range(n):
        pid = _begin(store, campaign_id=i + 1)
        ids.append(pid)
        ids.append(store.audit.complete(pid, outcome="ok", detail=f"done {i}", duration_ms=i))
    return ids


def test_chain_survives_close_and_reopen(db_path: Path) -> None:
    first = Store(db_path)
    _fill(first, 2)
    first.close()
    second = Store(db_path)
    try:
        _fill(second, 2)
        result = second.audit.verify()
        assert result.ok and result.count == 8 and result.first_bad_id is None
    finally:
        second.close()


def test_verify_detects_edited_row(store: Store, db_path: Path) -> None:
    ids = _fill(store)
    with _raw(db_path) as conn:
        conn.execute("UPDATE audit_log SET outcome = 'failed' WHERE id = ?", [ids[3]])
    result = store.audit.verify()
    assert not result.ok
    assert (result.first_bad_id, result.reason) == (ids[3], "edited")


def test_verify_detects_rehashed_edit_at_the_next_row(store: Store, db_path: Path) -> None:
    """An editor who also recomputes the row's hash still breaks the next link."""
    from store.audit import row_hash

    ids = _fill(store)
    conn = _raw(db_path)
    row = dict(conn.execute("SELECT * FROM audit_log WHERE id = ?", [ids[1]]).fetchone())
    row["detail"] = "forged"
    conn.execute(
        "UPDATE audit_log SET detail = ?, hash = ? WHERE id = ?",
        [row["detail"], row_hash(row), ids[1]],
    )
    conn.close()
    result = store.audit.verify()
    assert not result.ok
    assert (result.first_bad_id, result.reason) == (ids[2], "inserted or reordered")


def test_verify_detects_deleted_middle_row(store: Store, db_path: Path) -> None:
    ids = _fill(store)
    with _raw(db_path) as conn:
        conn.execute("DELETE FROM audit_log WHERE id = ?", [ids[2]])
    result = store.audit.verify()
    assert not result.ok
    assert (result.first_bad_id, result.reason) == (ids[3], "deleted before this row")


def test_verify_detects_deleted_last_row(store: Store, db_path: Path) -> None:
    ids = _fill(store)
    with _raw(db_path) as conn:
        conn.execute("DELETE FROM audit_log WHERE id = ?", [ids[-1]])
    result = store.audit.verify()
    assert not result.ok
    assert (result.first_bad_id, result.reason) == (ids[-1], "deleted at the end")
    # Appending afterwards does not paper over the hole.
    _begin(store)
    result = store.audit.verify()
    assert (result.ok, result.first_bad_id, result.reason) == (
        False,
        ids[-1] + 1,
        "deleted before this row",
    )


def test_verify_detects_inserted_forged_row(store: Store, db_path: Path) -> None:
    ids = _fill(store)
    with _raw(db_path) as conn:
        conn.execute(
            "INSERT INTO audit_log (id, ts, action, outcome, prev_hash, hash)"
            " VALUES (?, '2024-01-01T00:00:00.000Z', 'start', 'ok', ?, ?)",
            [ids[-1] + 1, "f" * 64, "e" * 64],
        )
    _begin(store)  # an honest row after the forgery
    result = store.audit.verify()
    assert not result.ok
    assert (result.first_bad_id, result.reason) == (ids[-1] + 1, "inserted or reordered")


def test_verify_on_empty_log(store: Store) -> None:
    assert store.audit.verify().ok and store.audit.verify().count == 0


# --- audit: crash recovery and export ----------------------------------------------


def test_mark_unknown_pending(db_path: Path) -> None:
    crashed = Store(db_path)
    done = _begin(crashed, campaign_id=1)
    crashed.audit.complete(done, outcome="ok")
    lost_a = _begin(crashed, campaign_id=2)
    lost_b = _begin(crashed, campaign_id=3, action="remove")
    crashed.close()  # as if the process died before the dialer answered

    restarted = Store(db_path)
    try:
        marked = restarted.audit.mark_unknown_pending()
        assert [(e.id, e.outcome, e.detail) for e in marked] == [
            (lost_a, "unknown", UNKNOWN_DETAIL),
            (lost_b, "unknown", UNKNOWN_DETAIL),
        ]
        assert marked[1].action == "remove" and marked[1].campaign_id == 3
        assert restarted.audit.mark_unknown_pending() == []  # nothing left
        assert restarted.audit.get(done).outcome == "ok"
        assert restarted.audit.verify().ok
    finally:
        restarted.close()


def _typed(row: dict[str, str]) -> dict[str, object]:
    """CSV gives strings; turn them back into what SQLite holds."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if value == "":
            out[key] = None
        elif key in ("id", "campaign_id", "duration_ms", "ref_id"):
            out[key] = int(value)
        else:
            out[key] = value
    return out


def test_export_round_trips_csv_and_jsonl(store: Store, db_path: Path) -> None:
    _fill(store, 2)
    store.audit.record(
        action="create_call_list",
        outcome="failed",
        user_id="U",
        channel_id="C",
        request={"name": 'Quote " and, comma', "numbers": ["+420 1"]},
        detail="line one\nline two, with ünïcode",
    )
    expected = [dict(r) for r in _raw(db_path).execute("SELECT * FROM audit_log ORDER BY id")]

    csv_lines = list(store.audit.export("csv"))
    assert all(line.endswith("\n") for line in csv_lines)
    parsed = [_typed(r) for r in csv.DictReader(io.StringIO("".join(csv_lines)))]
    assert parsed == expected

    jsonl_lines = list(store.audit.export("jsonl"))
    assert len(jsonl_lines) == len(expected)
    assert [json.loads(line) for line in jsonl_lines] == expected


def test_export_since_filters_on_ts(db_path: Path) -> None:
    clock = FakeClock(datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC))
    store = Store(db_path, clock=clock)
    try:
        old = store.audit.record(action="start", outcome="ok", user_id="U", channel_id="C")
        clock.advance(seconds=2)  # now 2024-05-01T00:00:01Z
        new = store.audit.record(action="pause", outcome="ok", user_id="U", channel_id="C")
        ids = [json.loads(x)["id"] for x in store.audit.export("jsonl", since="2024-05-01")]
        assert ids == [new]
        ids = [json.loads(x)["id"] for x in store.audit.export("jsonl", since="2024-04-30")]
        assert ids == [old, new]
        # An offset is converted to UTC: 02:00:01+02:00 == 00:00:01Z.
        lines = list(store.audit.export("csv", since="2024-05-01T02:00:01+02:00"))
        assert len(lines) == 2 and lines[1].startswith(f"{new},")
        with pytest.raises(ValueError, match="since"):
            store.audit.export("csv", since="yesterday")
        with pytest.raises(ValueError, match="format"):
            store.audit.export("xml")
    finally:
        store.close()


# --- concurrency ---------------------------------------------------------------------


def _append_in_process(path: str, n: int, label: str) -> int:
    """Runs in a spawned process: append n one-shot rows through its own Store."""
    store = Store(path)
    try:
        for i in range(n):
            store.audit.record(
                action="reload", outcome="ok", user_id=label, channel_id="C", detail=str(i)
            )
    finally:
        store.close()
    return n


def _claim_in_process(path: str, token: str, user: str, start: object) -> bool:
    """Runs in a spawned process: wait for the start signal, then claim."""
    store = Store(path)
    try:
        start.wait(30)  # type: ignore[attr-defined]
        return store.claims.claim(token, user_id=user).ok
    finally:
        store.close()


def test_appends_from_many_processes_keep_one_chain(db_path: Path) -> None:
    Store(db_path).close()  # create the schema once
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_append_in_process, [(str(db_path), 15, f"P{i}") for i in range(4)])
    assert results == [15] * 4
    store = Store(db_path)
    try:
        result = store.audit.verify()
        assert result.ok and result.count == 60
    finally:
        store.close()


def test_appends_from_threads_with_separate_connections(db_path: Path) -> None:
    stores = [Store(db_path) for _ in range(6)]
    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda s: [_begin(s) for _ in range(10)], stores))
        result = stores[0].audit.verify()
        assert result.ok and result.count == 60
    finally:
        for s in stores:
            s.close()


def test_claim_exactly_once_with_50_threads_on_one_store(store: Store) -> None:
    token = store.claims.issue(action="start", campaign_id=12, user_id="U0", channel_id="C")
    barrier = threading.Barrier(50)

    def attempt(i: int) -> bool:
        barrier.wait()
        return store.claims.claim(token, user_id=f"U{i}").ok

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(attempt, range(50)))
    assert results.count(True) == 1
    claim = store.claims.get(token)
    assert claim is not None and claim.state == "used"
    assert claim.used_by == f"U{results.index(True)}"


def test_claim_exactly_once_with_50_threads_on_separate_connections(db_path: Path) -> None:
    stores = [Store(db_path) for _ in range(50)]
    try:
        token = stores[0].claims.issue(action="pause", campaign_id=1, user_id="U", channel_id="C")
        barrier = threading.Barrier(50)

        def attempt(i: int) -> bool:
            barrier.wait()
            return stores[i].claims.claim(token, user_id=f"U{i}").ok

        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(attempt, range(50)))
        assert results.count(True) == 1
    finally:
        for s in stores:
            s.close()


def test_claim_exactly_once_across_two_store_instances(db_path: Path) -> None:
    a, b = Store(db_path), Store(db_path)
    try:
        token = a.claims.issue(action="remove", campaign_id=7, user_id="U1", channel_id="C")
        first = b.claims.claim(token, user_id="U2")
        second = a.claims.claim(token, user_id="U1")
        assert first.ok and not second.ok
        assert (second.state, second.by_user, second.at) == ("used", "U2", first.at)
        assert (second.action, second.campaign_id) == ("remove", 7)
    finally:
        a.close()
        b.close()


def test_claim_exactly_once_across_processes(db_path: Path) -> None:
    store = Store(db_path)
    token = store.claims.issue(action="start", campaign_id=1, user_id="U", channel_id="C")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(4) as pool:
            pending = pool.starmap_async(
                _claim_in_process, [(str(db_path), token, f"P{i}", start) for i in range(8)]
            )
            start.set()
            results = pending.get(timeout=60)
    assert results.count(True) == 1
    assert store.claims.get(token).used_by == f"P{results.index(True)}"
    store.close()


# --- claims ---------------------------------------------------------------------------


def test_claim_expiry_missing_and_cancel(db_path: Path) -> None:
    clock = FakeClock()
    store = Store(db_path, clock=clock)
    try:
        token = store.claims.issue(
            action="create_campaign",
            campaign_id=None,
            user_id="U1",
            channel_id="C1",
            payload={"name": "Spring"},
            ttl_s=60,
        )
        assert len(token) >= 20
        claim = store.claims.get(token)
        assert claim is not None and claim.state == "open" and claim.payload == {"name": "Spring"}
        clock.advance(seconds=61)
        result = store.claims.claim(token, user_id="U1")
        assert (result.ok, result.state, result.by_user) == (False, "expired", None)
        assert store.claims.get(token).state == "expired"

        assert store.claims.claim("nope", user_id="U1") == type(result)(ok=False, state="missing")

        other = store.claims.issue(action="start", campaign_id=2, user_id="U1", channel_id="C")
        cancelled = store.claims.claim(other, user_id="U3", final_state="cancelled")
        assert cancelled.ok and cancelled.state == "cancelled"
        again = store.claims.claim(other, user_id="U1")
        assert (again.ok, again.state, again.by_user) == (False, "cancelled", "U3")
        with pytest.raises(ValueError):
            store.claims.claim(other, user_id="U1", final_state="open")
        with pytest.raises(ValueError, match="secret"):
            store.claims.issue(
                action="x", campaign_id=None, user_id="U", channel_id="C", payload={"token": "t"}
            )
    finally:
        store.close()


def test_claim_just_before_expiry_succeeds(db_path: Path) -> None:
    clock = FakeClock()
    store = Store(db_path, clock=clock)
    try:
        token = store.claims.issue(action="start", campaign_id=1, user_id="U", channel_id="C")
        clock.advance(seconds=1799)
        assert store.claims.claim(token, user_id="U").ok
    finally:
        store.close()


# --- subscriptions, grants, outbox -----------------------------------------------------


def test_subscriptions(store: Store) -> None:
    assert store.subscriptions.add("C1", "U1") is True
    assert store.subscriptions.add("C1", "U2") is False
    assert store.subscriptions.add("C2", "U1") is True
    assert store.subscriptions.list() == ["C1", "C2"]
    assert store.subscriptions.remove("C1") is True
    assert store.subscriptions.remove("C1") is False
    assert store.subscriptions.list() == ["C2"]


def test_grants(store: Store) -> None:
    added = store.grants.grant("U1", "operator", ["C1", "C2"], "UADMIN")
    assert [(g.user_id, g.role, g.channel_id, g.granted_by) for g in added] == [
        ("U1", "operator", "C1", "UADMIN"),
        ("U1", "operator", "C2", "UADMIN"),
    ]
    assert store.grants.grant("U1", "operator", ["C1"], "UADMIN") == []  # already there
    [everywhere] = store.grants.grant("U1", "viewer", None, "UADMIN")
    assert everywhere.channel_id is None
    assert store.grants.grant("U1", "viewer", None, "UADMIN") == []  # NULL is unique too
    store.grants.grant("U2", "admin", None, "UADMIN")
    assert len(store.grants.for_user("U1")) == 3
    assert [g.user_id for g in store.grants.all()] == ["U1", "U1", "U1", "U2"]
    with pytest.raises(ValueError, match="role"):
        store.grants.grant("U1", "superuser", None, "UADMIN")
    assert store.grants.revoke("U1", "operator") == 2
    assert [g.role for g in store.grants.for_user("U1")] == ["viewer"]
    assert store.grants.revoke("U1") == 1
    assert store.grants.revoke("U1") == 0
    assert store.grants.for_user("U1") == []


def test_outbox_order_and_states(store: Store) -> None:
    first = store.outbox.enqueue("C1", {"text": "one"})
    second = store.outbox.enqueue("C2", {"text": "two"})
    third = store.outbox.enqueue("C1", {"text": "three"})
    assert [i.id for i in store.outbox.pending()] == [first, second, third]
    assert store.outbox.pending()[0].payload == {"text": "one"}
    assert [i.id for i in store.outbox.pending(limit=2)] == [first, second]

    store.outbox.mark_attempt(first, "ratelimited")
    item = store.outbox.get(first)
    assert (item.attempts, item.last_error, item.state) == (1, "ratelimited", "pending")
    store.outbox.mark_sent(first, "1714564800.000100")
    item = store.outbox.get(first)
    assert (item.state, item.ts_slack) == ("sent", "1714564800.000100")
    assert item.sent_at is not None

    store.outbox.mark_attempt(second, "boom", max_attempts=2)
    store.outbox.mark_attempt(second, "boom again", max_attempts=2)
    assert store.outbox.get(second).state == "failed"
    assert [i.id for i in store.outbox.pending()] == [third]


# --- async use --------------------------------------------------------------------------


async def test_run_executes_on_the_store_thread(store: Store) -> None:
    def where() -> str:
        return threading.current_thread().name

    assert (await store.run(where)).startswith("store")
    pid = await store.run(
        store.audit.begin, action="start", user_id="U", channel_id="C", campaign_id=5
    )
    await store.run(store.audit.complete, pid, outcome="ok", duration_ms=3)
    entries = await asyncio.gather(*(store.run(store.audit.history) for _ in range(5)))
    assert all(e[0].outcome == "ok" for e in entries)
    assert (await store.run(store.audit.verify)).ok


async def test_aclose_waits_for_queued_work(db_path: Path) -> None:
    store = Store(db_path)
    # gather starts run() first, so its work is queued before close() begins.
    added, _ = await asyncio.gather(store.run(store.subscriptions.add, "C9", "U"), store.aclose())
    assert added is True
    reopened = Store(db_path)
    assert reopened.subscriptions.list() == ["C9"]
    reopened.close()
