"""`/dialer history` over a large audit log: each filter's query, with and without the
history indexes, against the 20 ms goal.

    python bench/history.py [--rows 1000000]

Fills a temporary database (the bot's own schema, every migration applied) with audit rows
of the real shape: a control command is a pending row and its completion (ok, some failed,
a few unknown), refusals are one-shot denied rows, a campaign created through the form has
a pending row without a campaign and a completion naming it, and every row is chained with
its real hash. The rows go in with one executemany, not through the chain writer one by
one, which would take many minutes for a million rows.

The worst cases are planted at the start of the log, where the query must reach furthest:
a campaign (#9001) and a person (UOLD) whose few entries are all old, and the outcome
`unknown`, which is rare. Each query is the one `/dialer history` runs
(store.audit.AuditLog.history), timed as the median of several runs after one warm-up.
The baseline is the same file with the history indexes dropped, in the same run.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlite_utils  # noqa: E402

from store.audit import COLUMNS, GENESIS_HASH, AuditLog, row_hash  # noqa: E402
from store.db import dump_json, open_db  # noqa: E402
from store.schema import HISTORY_INDEXES  # noqa: E402

GOAL_MS = 20.0
OLD_CAMPAIGN = 9001
OLD_USER = "UOLD"
USERS = [f"U{n:04d}" for n in range(50)]
CAMPAIGNS = list(range(1, 201))
ACTIONS = ("start", "pause", "unpause", "reload", "remove")


def requests(rows: int, rng: random.Random) -> Iterator[list[dict[str, Any]]]:
    """Each request's rows (one or two), oldest first, until ``rows`` rows are made."""
    made = 0
    n = 0
    while made < rows:
        n += 1
        early = made < rows // 100  # the first 1 % of the log: where the old ones live
        user = OLD_USER if early and n % 50 == 0 else rng.choice(USERS)
        campaign = OLD_CAMPAIGN if early and n % 37 == 0 else rng.choice(CAMPAIGNS)
        base = {
            "team_id": "T0001",
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": "C0001",
            "detail": None,
            "duration_ms": None,
            "ref_id": None,
        }
        roll = rng.random()
        if roll < 0.03:  # refused: one row
            action = rng.choice(ACTIONS)
            one = {**base, "action": action, "campaign_id": campaign, "outcome": "denied"}
            one["detail"] = "needs operator, has viewer"
            one["request"] = None
            batch = [one]
        else:
            creating = roll < 0.035
            action = "create_campaign" if creating else rng.choice(ACTIONS)
            request = {"command": action, "request_id": f"r{n:08d}"}
            pending = {
                **base,
                "action": action,
                "campaign_id": None if creating else campaign,
                "outcome": "pending",
                "request": dump_json(request),
            }
            if early and n % 97 == 0:
                outcome = "unknown"
            else:
                outcome = "failed" if rng.random() < 0.02 else "ok"
            done = {
                **base,
                "action": action,
                "campaign_id": campaign,
                "outcome": outcome,
                "request": None,
                "detail": "Campaign state changed" if outcome == "ok" else "409 Conflict",
                "duration_ms": rng.randint(40, 900),
                "ref_id": "pending",
            }
            batch = [pending, done]
        made += len(batch)
        yield batch


def fill(path: Path, rows: int, seed: int = 7) -> int:
    """``rows`` chained audit rows in one transaction; returns how many were written."""
    db = open_db(path)
    db.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    prev = GENESIS_HASH
    next_id = 0
    start = time.monotonic()
    out: list[list[Any]] = []
    ts0 = 1_700_000_000.0
    for batch in requests(rows, rng):
        pending_id = None
        for row in batch:
            next_id += 1
            row["id"] = next_id
            row["ts"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts0 + next_id * 7))
            if row["ref_id"] == "pending":
                row["ref_id"] = pending_id
            pending_id = next_id
            row["prev_hash"] = prev
            row["hash"] = prev = row_hash(row)
            out.append([row[c] for c in COLUMNS])
    placeholders = ", ".join("?" for _ in COLUMNS)
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
        out,
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(f"filled {next_id:,} rows in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return next_id


QUERIES: list[tuple[str, dict[str, Any]]] = [
    (f"history #{OLD_CAMPAIGN}   (old campaign)", {"campaign_id": OLD_CAMPAIGN}),
    ("history #17        (busy campaign)", {"campaign_id": 17}),
    (f"history @{OLD_USER}      (old person)", {"user_id": OLD_USER}),
    ("history @U0007     (busy person)", {"user_id": "U0007"}),
    ("history failed", {"outcome": "failed"}),
    ("history denied", {"outcome": "denied"}),
    ("history unknown    (rare, old)", {"outcome": "unknown"}),
    ("history #17 @U0007 failed", {"campaign_id": 17, "user_id": "U0007", "outcome": "failed"}),
    ("history            (no filter)", {}),
]


def timed(run: Callable[[], Any], repeat: int = 7) -> float:
    """Median milliseconds of ``repeat`` runs after one warm-up."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def shipped_history(conn: sqlite3.Connection, limit: int = 11, **kw: Any) -> list[int]:
    """The history query as it was before the history indexes: filters on the view."""
    sql = "SELECT id FROM audit_requests WHERE 1 = 1"
    params: list[Any] = []
    for column in ("campaign_id", "user_id", "outcome"):
        if column in kw:
            sql += f" AND {column} = ?"
            params.append(kw[column])
    return [r[0] for r in conn.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])]


def measure(path: Path, *, shipped: bool = False) -> dict[str, tuple[float, list[int]]]:
    """Each query's median ms and the entry ids it found: AuditLog.history, or the query
    as shipped before."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    audit = AuditLog(sqlite_utils.Database(conn))
    found = {}
    for label, kw in QUERIES:
        if shipped:

            def run(kw: dict[str, Any] = kw) -> list[int]:
                return shipped_history(conn, **kw)
        else:

            def run(kw: dict[str, Any] = kw) -> list[int]:
                return [e.id for e in audit.history(limit=11, **kw)]

        found[label] = (timed(run), run())
    conn.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        rows = fill(path, args.rows)
        indexed = measure(path)
        conn = sqlite3.connect(path, isolation_level=None)
        for name in HISTORY_INDEXES:
            conn.execute(f"DROP INDEX {name}")
        conn.close()
        without = measure(path)
        before = measure(path, shipped=True)
    print(f"\n`/dialer history` over {rows:,} audit rows (median ms; goal <= {GOAL_MS:.0f} ms)")
    print("indexed: as shipped now; no index: the same query without the history indexes;")
    print("before: the query as it was, filters on the view, without the indexes\n")
    print(f"{'query':36} {'indexed':>9} {'no index':>9} {'before':>9}  entries  goal")
    worst = 0.0
    for label, _ in QUERIES:
        ms, ids = indexed[label]
        assert ids == without[label][1] == before[label][1], f"{label}: different entries"
        worst = max(worst, ms)
        mark = "ok" if ms <= GOAL_MS else "MISSED"
        print(
            f"{label:36} {ms:9.2f} {without[label][0]:9.2f} {before[label][0]:9.2f}"
            f"  {len(ids):7d}  {mark}"
        )
    print(f"\nslowest with the indexes: {worst:.2f} ms (goal {GOAL_MS:.0f} ms)")


if __name__ == "__main__":
    main()
