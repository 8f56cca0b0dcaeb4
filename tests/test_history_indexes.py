"""`/dialer history` by campaign, person or outcome reads the history indexes, and answers
exactly what a filter on the audit_requests view answers.

Timing is bench/history.py's business (a million rows); here the query plan must use an
index for each filter, so a campaign or person whose entries are old is found without
reading the log from its newest row back.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store import Store
from store.schema import HISTORY_INDEXES


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "bot.db") as s:
        yield s


def plan_of_history(store: Store, **kw: Any) -> list[str]:
    """EXPLAIN QUERY PLAN of the statement AuditLog.history runs, as SQLite words it."""
    statements: list[str] = []
    conn = store.db.conn
    conn.set_trace_callback(statements.append)
    try:
        store.audit.history(**kw)
    finally:
        conn.set_trace_callback(None)
    [sql] = [s for s in statements if "audit_requests" in s]
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]


FILTERS = {
    "campaign_id": ({"campaign_id": 12}, "audit_log_history_campaign"),
    "user_id": ({"user_id": "UBOB"}, "audit_log_history_user"),
    "outcome": ({"outcome": "failed"}, "audit_log_history_outcome"),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("paged", [False, True])
def test_each_filter_reads_its_index(store: Store, name: str, paged: bool) -> None:
    kw, index = FILTERS[name]
    plan = plan_of_history(store, **kw, **({"before_id": 500} if paged else {}))
    text = "\n".join(plan)
    searches = [line for line in plan if "audit_log USING" in line and "(subquery" not in line]
    # Both the requests' own rows and their completions are found through the index...
    assert sum(index in line for line in searches) == 2, text
    # ...and nothing reads the whole log (a SCAN of audit_log, or of the view's r or c).
    assert not [line for line in plan if line.startswith("SCAN") and "subquery" not in line], text
    assert index in HISTORY_INDEXES


def test_indexes_are_in_a_fresh_file(store: Store) -> None:
    names = {
        r[0]
        for r in store.db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log'"
        )
    }
    assert set(HISTORY_INDEXES) <= names


def view_history(store: Store, limit: int, **kw: Any) -> list[int]:
    """The answer by definition: the filters on the view, newest first."""
    sql = "SELECT id FROM audit_requests WHERE 1 = 1"
    params: list[Any] = []
    for column in ("campaign_id", "user_id", "outcome"):
        if kw.get(column) is not None:
            sql += f" AND {column} = ?"
            params.append(kw[column])
    if kw.get("hide_denied"):
        sql += " AND outcome != 'denied'"
    if kw.get("before_id") is not None:
        sql += " AND id < ?"
        params.append(kw["before_id"])
    rows = store.db.conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [r[0] for r in rows]


def test_same_entries_as_the_view(store: Store) -> None:
    """Every kind of request the log holds: completed (ok, failed, unknown), refused,
    still pending, a create whose campaign only its completion names; every filter,
    alone and together, paged."""
    rng = random.Random(3)
    audit = store.audit
    users, campaigns = ["UA", "UB", "UC"], [1, 2, 3]
    for n in range(400):
        user, campaign = rng.choice(users), rng.choice(campaigns)
        who = {"user_id": user, "channel_id": "C1"}
        roll = rng.random()
        if roll < 0.15:
            audit.record(action="pause", outcome="denied", campaign_id=campaign, **who)
        elif roll < 0.2:
            pending = audit.begin(action="create_campaign", **who)
            audit.complete(pending, outcome="ok", campaign_id=campaign)
        elif roll < 0.23:
            audit.begin(action="start", campaign_id=campaign, **who)  # never completed
        else:
            pending = audit.begin(action="pause", campaign_id=campaign, **who)
            audit.complete(pending, outcome=rng.choice(["ok", "ok", "failed", "unknown"]))
        if n % 50 == 0:
            audit.record(action="grant", outcome="ok", **who)  # no campaign at all
    count = 0
    for campaign, user, outcome, hide, before in itertools.product(
        [None, 2],
        [None, "UB"],
        [None, "failed", "denied", "pending", "ok"],
        [False, True],
        [None, 300, 90],
    ):
        kw = {"campaign_id": campaign, "user_id": user, "outcome": outcome}
        kw.update(hide_denied=hide, before_id=before)
        for limit in (1, 5, 11):
            got = [e.id for e in audit.history(limit=limit, **kw)]
            assert got == view_history(store, limit, **kw), (kw, limit)
            count += bool(got)
    assert count > 200  # the comparisons were not all of empty answers
