"""The schema's history: every migration step, in order.

Append new steps at the end; never edit a step that has shipped. The schema
version is ``PRAGMA user_version`` = the number of steps applied, and
:func:`store.db.migrate` applies the missing ones. Kept apart from the code that
opens the file because it only ever grows, and reads as the tables' reference.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def _v1_initial(db: sqlite_utils.Database) -> None:
    """Every table of the first release."""
    # Append-only, hash-chained. AUTOINCREMENT so ids are never reused: a
    # deleted row always leaves a gap that verify() can name.
    db.execute("""CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            team_id TEXT,
            user_id TEXT,
            user_name TEXT,
            channel_id TEXT,
            action TEXT NOT NULL,
            campaign_id INTEGER,
            request TEXT,
            outcome TEXT NOT NULL
                CHECK (outcome IN ('pending', 'ok', 'failed', 'denied', 'unknown')),
            detail TEXT,
            duration_ms INTEGER,
            ref_id INTEGER REFERENCES audit_log(id),
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        )""")
    db.execute("CREATE INDEX audit_log_ref_id ON audit_log(ref_id)")
    db.execute("CREATE INDEX audit_log_campaign ON audit_log(campaign_id, id)")
    db.execute("CREATE INDEX audit_log_ts ON audit_log(ts)")
    # One line per request: the pending (or one-shot) row, with the result
    # taken from its latest completion row when there is one.
    db.execute("""CREATE VIEW audit_requests AS
        SELECT r.id, r.ts, r.team_id, r.user_id, r.user_name, r.channel_id,
               r.action, r.campaign_id, r.request,
               COALESCE(c.outcome, r.outcome) AS outcome,
               CASE WHEN c.id IS NULL THEN r.detail ELSE c.detail END AS detail,
               CASE WHEN c.id IS NULL THEN r.duration_ms ELSE c.duration_ms END
                   AS duration_ms,
               c.id AS completion_id,
               c.ts AS completed_ts
        FROM audit_log AS r
        LEFT JOIN audit_log AS c
            ON c.id = (SELECT MAX(x.id) FROM audit_log AS x WHERE x.ref_id = r.id)
        WHERE r.ref_id IS NULL""")
    db.execute("""CREATE TABLE claims (
            token TEXT PRIMARY KEY,
            action TEXT NOT NULL,
            campaign_id INTEGER,
            created_by TEXT NOT NULL,
            channel_id TEXT,
            payload TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'used', 'cancelled', 'expired')),
            used_by TEXT,
            used_at TEXT
        )""")
    db.execute("CREATE INDEX claims_expires_at ON claims(expires_at)")
    db.execute("""CREATE TABLE subscriptions (
            channel_id TEXT PRIMARY KEY,
            added_by TEXT,
            added_at TEXT NOT NULL
        )""")
    db.execute("""CREATE TABLE grants (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
            channel_id TEXT,
            granted_by TEXT,
            granted_at TEXT NOT NULL
        )""")
    # NULL channel_id means "everywhere"; COALESCE so it is unique too.
    db.execute(
        "CREATE UNIQUE INDEX grants_unique ON grants(user_id, role, COALESCE(channel_id, ''))"
    )
    db.execute("""CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            channel_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_at TEXT,
            ts_slack TEXT
        )""")
    db.execute("CREATE INDEX outbox_state ON outbox(state, id)")


def _v2_approvals(db: sqlite_utils.Database) -> None:
    """Two-person approvals: a request waits here until a second person decides."""
    db.execute("""CREATE TABLE approvals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            command TEXT NOT NULL,
            campaign_id INTEGER NOT NULL,
            campaign_name TEXT,
            previous_state TEXT,
            requested_by TEXT NOT NULL,
            requested_by_name TEXT,
            team_id TEXT,
            channel_id TEXT,
            message_ts TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'approved', 'rejected', 'cancelled', 'expired')),
            decided_by TEXT,
            decided_at TEXT
        )""")
    db.execute("CREATE INDEX approvals_open ON approvals(state, expires_at)")


def _v3_outbox_lease(db: sqlite_utils.Database) -> None:
    """A delivery claim gets its own column instead of borrowing ``sent_at``.

    Until now a pending item's ``sent_at`` meant "a sender took it at"; those
    stamps become leases ending 30 s later (the notifier's lease of that
    release), so a claim held across the upgrade still lapses on time, and
    ``sent_at`` is left meaning only "delivered at". The index serves the claim's
    "is this the oldest pending item of its channel" check.
    """
    db.execute("ALTER TABLE outbox ADD COLUMN lease_until TEXT")
    # strftime's %f is SS.SSS, so this is exactly iso()'s fixed-width format.
    db.execute(
        """UPDATE outbox
        SET lease_until = strftime('%Y-%m-%dT%H:%M:%fZ', sent_at, '+30 seconds'),
            sent_at = NULL
        WHERE state = 'pending' AND sent_at IS NOT NULL"""
    )
    db.execute("CREATE INDEX outbox_channel_pending ON outbox(channel_id, state, id)")


def _v4_first_day(db: sqlite_utils.Database) -> None:
    """A request's campaign may be named only by its completion row, and an approval
    request may be posted twice (the channel of origin and APPROVAL_CHANNEL).

    ``create_campaign`` learns the new id from the dialer's answer, after the pending
    row is written; the view now takes the campaign from either row, so the new
    campaign's history shows its creation.
    """
    db.execute("DROP VIEW audit_requests")
    db.execute(
        """CREATE VIEW audit_requests AS
        SELECT r.id, r.ts, r.team_id, r.user_id, r.user_name, r.channel_id,
               r.action, COALESCE(r.campaign_id, c.campaign_id) AS campaign_id, r.request,
               COALESCE(c.outcome, r.outcome) AS outcome,
               CASE WHEN c.id IS NULL THEN r.detail ELSE c.detail END AS detail,
               CASE WHEN c.id IS NULL THEN r.duration_ms ELSE c.duration_ms END
                   AS duration_ms,
               c.id AS completion_id,
               c.ts AS completed_ts
        FROM audit_log AS r
        LEFT JOIN audit_log AS c
            ON c.id = (SELECT MAX(x.id) FROM audit_log AS x WHERE x.ref_id = r.id)
        WHERE r.ref_id IS NULL"""
    )
    db.execute("ALTER TABLE approvals ADD COLUMN copy_channel_id TEXT")
    db.execute("ALTER TABLE approvals ADD COLUMN copy_message_ts TEXT")


def _v5_watch_home_threads(db: sqlite_utils.Database) -> None:
    """The campaign watcher's lease and snapshot, App Home viewers, threads.

    ``watch_state`` is one row: who holds the watcher lease, the snapshot's version
    (bumped by every committed poll, so two processes never commit the same diff),
    the dialer's ETag and the outage bookkeeping that must survive restarts.
    An outbox item is now a post, a reply in a thread (``parent_id`` = the outbox id
    of the thread's parent) or an update of that parent.
    """
    db.execute(
        """CREATE TABLE watch_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            holder TEXT,
            lease_until TEXT,
            version INTEGER NOT NULL DEFAULT 0,
            baseline_at TEXT,
            polled_at TEXT,
            etag TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            failing_since TEXT,
            last_error TEXT,
            down_announced INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("INSERT INTO watch_state (id) VALUES (1)")
    db.execute(
        """CREATE TABLE campaign_snapshot (
            campaign_id INTEGER PRIMARY KEY,
            data TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE threads (
            channel_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            day TEXT NOT NULL,
            parent_id INTEGER NOT NULL,
            PRIMARY KEY (channel_id, subject, day)
        )"""
    )
    db.execute(
        "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'post'"
        " CHECK (kind IN ('post', 'reply', 'update'))"
    )
    db.execute("ALTER TABLE outbox ADD COLUMN parent_id INTEGER")
    db.execute(
        "ALTER TABLE subscriptions ADD COLUMN mode TEXT NOT NULL DEFAULT 'threaded'"
        " CHECK (mode IN ('threaded', 'flat'))"
    )
    db.execute(
        """CREATE TABLE home_views (
            user_id TEXT PRIMARY KEY,
            opened_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE seen_events (
            event_id TEXT PRIMARY KEY,
            seen_at TEXT NOT NULL
        )"""
    )


def _v6_schedules(db: sqlite_utils.Database) -> None:
    """Scheduled commands: a row waits here until its due time claims it once.

    ``state``: awaiting (approval) → pending → running → done | failed; or cancelled,
    missed (due longer than the grace period ago), revoked (the requester lost the role),
    removed (the campaign was gone).
    """
    db.execute(
        """CREATE TABLE schedules (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            command TEXT NOT NULL,
            campaign_id INTEGER NOT NULL,
            campaign_name TEXT,
            due_at TEXT NOT NULL,
            tz TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_by_name TEXT,
            team_id TEXT,
            channel_id TEXT,
            created_at TEXT NOT NULL,
            approved_by TEXT,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('awaiting', 'pending', 'running', 'done', 'failed',
                                 'cancelled', 'missed', 'revoked', 'removed')),
            claimed_at TEXT,
            finished_at TEXT,
            finished_by TEXT,
            detail TEXT,
            audit_id INTEGER
        )"""
    )
    db.execute("CREATE INDEX schedules_due ON schedules(state, due_at)")


def _v7_workflow_runs(db: sqlite_utils.Database) -> None:
    """Workflow Builder step runs: one row per ``function_execution_id``, claimed by the
    INSERT that creates it, so a run Slack delivers twice acts once.

    ``state``: running → done; ``outputs`` (JSON) or ``error`` is what Slack was told, so
    a repeated delivery gets the same answer.
    """
    db.execute(
        """CREATE TABLE workflow_runs (
            execution_id TEXT PRIMARY KEY,
            step TEXT NOT NULL,
            user_id TEXT,
            workflow_execution_id TEXT,
            state TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
            outputs TEXT,
            error TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT
        )"""
    )


def _v8_list_zones(db: sqlite_utils.Database) -> None:
    """Numbers per time zone of each call list, for the calling-hours check: counts only."""
    db.execute("""CREATE TABLE list_zones (
            list_id INTEGER PRIMARY KEY,
            counts TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('upload', 'dialer')),
            counted_at TEXT NOT NULL
        )""")


def _v9_seen_requests(db: sqlite_utils.Database) -> None:
    """Signatures of signed requests seen in the last 5 minutes (store/seen.py): a replay
    is recognised by one conditional INSERT, across processes."""
    db.execute(
        """CREATE TABLE seen_requests (
            signature TEXT PRIMARY KEY,
            request_ts INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX seen_requests_ts ON seen_requests(request_ts)")


# `/dialer history` by campaign, person or outcome (store.audit.AuditLog.history): each
# index serves both a request's own row (ref_id IS NULL, in id order) and its completion
# (ref_id, in the order of the request it completes), so the newest entries come first
# without reading the log from its end.
HISTORY_INDEXES = (
    "audit_log_history_campaign",
    "audit_log_history_user",
    "audit_log_history_outcome",
)


def _v10_history_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for the history filters: over a million rows a campaign or person whose
    entries are old took up to a second, read from the newest row backwards."""
    db.execute("CREATE INDEX audit_log_history_campaign ON audit_log(campaign_id, ref_id)")
    db.execute("CREATE INDEX audit_log_history_user ON audit_log(user_id, ref_id)")
    db.execute("CREATE INDEX audit_log_history_outcome ON audit_log(outcome, ref_id)")


def _v11_dnc(db: sqlite_utils.Database) -> None:
    """The do-not-call list: one row per number, and one row per change that says who,
    when, why and from which file.

    A number is kept as the INTEGER of its E.164 digits (``+420601123456`` →
    420601123456; E.164 has at most 15 digits, so it fits in 64 bits) and is the rowid
    itself: 10,000,000 numbers take about 130 MB and a lookup is one B-tree search. Who
    added a number is the change it points to, so a file of millions of numbers stores
    its author and reason once.
    """
    db.execute(
        """CREATE TABLE dnc_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
            user_id TEXT,
            user_name TEXT,
            reason TEXT,
            source TEXT,
            numbers INTEGER NOT NULL DEFAULT 0,
            audit_id INTEGER
        )"""
    )
    db.execute(
        """CREATE TABLE dnc (
            number INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL
        )"""
    )


def _v12_approval_override(db: sqlite_utils.Database) -> None:
    """An approval request keeps an admin's calling-hours override (the reason, the count
    and the zones its confirmation carried), so the approver's run is audited with it."""
    db.execute("ALTER TABLE approvals ADD COLUMN hours_override TEXT")


MIGRATIONS: list[Migration] = [
    _v1_initial,
    _v2_approvals,
    _v3_outbox_lease,
    _v4_first_day,
    _v5_watch_home_threads,
    _v6_schedules,
    _v7_workflow_runs,
    _v8_list_zones,
    _v9_seen_requests,
    _v10_history_indexes,
    _v11_dnc,
    _v12_approval_override,
]
