"""Anchors of the audit chain: its head (entry N, hash H) posted outside the file.

A forger who rewrites the file can recompute every hash after an edit, so the chain alone
cannot prove anything about itself. A copy of entry N's hash kept elsewhere (a Slack message
the bot posted, which the file's owner cannot edit) can: if entries up to N were rewritten,
entry N's hash changes, because each hash covers the previous one. The bot records each
post as an `anchor` row, so the chain also says where to find its anchors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from store.db import Component

ANCHOR_ACTION = "anchor"
_ANCHOR = re.compile(r"^\s*(\d+)\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class Anchor:
    entry: int
    hash: str


def parse_anchor(text: str) -> Anchor:
    """`N:HASH` as typed on the command line (HASH: the 64 hex digits the bot posted)."""
    match = _ANCHOR.match(text)
    if match is None:
        raise ValueError(
            f"anchor: expected ENTRY:HASH such as 42:3f2a…(64 hex digits), got {text!r}"
        )
    return Anchor(int(match[1]), match[2].lower())


def anchor_text(anchor: Anchor) -> str:
    """The Slack message; `audit verify --anchor N:HASH` takes its two values."""
    return f"audit head: entry {anchor.entry}, hash {anchor.hash}"


class Anchors(Component):
    """Check an anchor against the file; find the anchors the bot recorded."""

    def check(self, anchor: Anchor) -> str | None:
        """None when entry N still has the anchored hash; else what is wrong."""
        with self._read() as db:
            row = db.conn.execute(
                "SELECT hash FROM audit_log WHERE id = ?", [anchor.entry]
            ).fetchone()
        if row is None:
            return f"entry {anchor.entry} is missing: entries up to it were deleted"
        if row[0] != anchor.hash:
            return (
                f"entry {anchor.entry} does not match the anchor: entries up to "
                f"{anchor.entry} were rewritten"
            )
        return None

    def head(self) -> Anchor | None:
        with self._read() as db:
            row = db.conn.execute(
                "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else Anchor(int(row[0]), str(row[1]))

    def head_is_anchored(self) -> bool:
        """True when nothing was written since the last anchor row (no need to post again)."""
        with self._read() as db:
            row = db.conn.execute(
                "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return row is None or row[0] == ANCHOR_ACTION

    def recorded(self, limit: int = 5) -> list[dict[str, Any]]:
        """The latest anchor rows' request JSON (entry, hash, channel, message_ts), newest first."""
        with self._read() as db:
            rows = db.conn.execute(
                "SELECT id, ts, channel_id, request FROM audit_log"
                " WHERE action = ? AND outcome = 'ok'"
                " ORDER BY id DESC LIMIT ?",
                [ANCHOR_ACTION, limit],
            ).fetchall()
        return [
            {"row": r[0], "ts": r[1], "channel_id": r[2], **json.loads(r[3] or "{}")} for r in rows
        ]
