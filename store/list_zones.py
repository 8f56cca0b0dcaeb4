"""Numbers per time zone of each call list: counts only, never the numbers themselves.

Kept at upload for the lists the bot sends (source `upload`), and for other lists once
read from the dialer (source `dialer`), so the calling-hours check (bot/calling_hours.py)
does not read a list twice.
"""

from __future__ import annotations

import json

from store.db import Component


class ListZones(Component):
    """One row per call list: its zone counts as a JSON object {zone: numbers}."""

    def put(self, list_id: int, counts: dict[str, int], *, source: str = "upload") -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO list_zones (list_id, counts, source, counted_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(list_id) DO UPDATE SET "
                "counts = excluded.counts, source = excluded.source, "
                "counted_at = excluded.counted_at",
                [list_id, json.dumps(counts, sort_keys=True), source, self._now()],
            )

    def get(self, list_id: int) -> dict[str, int] | None:
        with self._read() as db:
            row = db.execute(
                "SELECT counts FROM list_zones WHERE list_id = ?", [list_id]
            ).fetchone()
        if row is None:
            return None
        return {str(k): int(v) for k, v in json.loads(row[0]).items()}
