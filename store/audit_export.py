"""`dialer-bot audit export`: the raw audit log as CSV or JSON lines, every column and the
chain included, so an auditor can re-hash the rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from store.db import parse_since

RawRows = Callable[[str | None], Iterator[dict[str, Any]]]


def export_lines(
    raw_rows: RawRows, columns: tuple[str, ...], fmt: str = "jsonl", since: str | None = None
) -> Iterator[str]:
    """Yield the raw log (every column, chain included) as text lines ending in "\\n".

    ``csv``: a header line, then one record per row (a record may span lines
    when a value contains a newline). ``jsonl``: one JSON object per row.
    ``request`` stays the stored JSON text so exported rows can be re-hashed.
    ``since`` is an ISO date or datetime; rows with ``ts >= since`` are kept.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"format: expected 'csv' or 'jsonl', got {fmt!r}")
    if since is not None:
        parse_since(since)  # fail before the first line, not halfway through
    return _lines(raw_rows, columns, fmt, since)


def _lines(
    raw_rows: RawRows, columns: tuple[str, ...], fmt: str, since: str | None
) -> Iterator[str]:
    if fmt == "jsonl":
        for row in raw_rows(since):
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def take(values: list[Any]) -> str:
        writer.writerow(values)
        line = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return line

    yield take(list(columns))
    for row in raw_rows(since):
        yield take(["" if row[name] is None else row[name] for name in columns])
