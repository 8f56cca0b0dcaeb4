"""Call-list numbers: read pasted text or a CSV file, normalize to E.164, drop duplicates.

No Slack and no dialer here. phonenumbers is CPU-bound (≈72,000 numbers/s on one core,
facts.md §4), so a million numbers must not run on the event loop: the file is cut into
blocks of whole lines, each block is parsed *and* normalized in a process-pool worker, and
the parent only deduplicates and appends the worker's ready-made JSON to the request body
file (and its ready-made CSV rows to the invalid-entries file). Memory stays bounded: the
file is never held whole, the valid numbers and the invalid entries go straight to disk,
and the parent keeps one int per unique number for deduplication.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import multiprocessing
import os
import re
import secrets
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

# The column names that mark the number column (compared case-insensitively).
NUMBER_HEADERS = ("number", "phone", "phone_number", "msisdn", "tel")
SNIFF_BYTES = 64 * 1024
BLOCK_BYTES = 512 * 1024  # ≈ 35,000 numbers per worker task
INVALID_SHOWN = 20  # in the summary message; all of them go to the invalid-entries CSV
MAX_INVALID_FILE_BYTES = 20 * 1024 * 1024  # the invalid-entries CSV is cut (whole rows) here
INVALID_FILE_HEADER = ("line", "entry", "reason")
MAX_NUMBERS = 1_000_000  # per call list: the dialer simulator's limit (assumed for the real one)
MAX_BODY_BYTES = 200 * 1024 * 1024  # assumed: safely under the simulator's 256 MB body limit
MAX_ATTRIBUTE_COLUMNS = 20
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
RAW_SHOWN_CHARS = 40
RAW_FILE_CHARS = 200  # an entry this long is not a phone number; the file need not hold more
NO_REGION_REASON = "national number but no country chosen"

_LOOKS_LIKE_NUMBER = re.compile(r"(?:tel:)?\+?[\d\s().\-/]+")
_PASTE_SEPARATORS = re.compile(r"[,;]")
_BODY_NAME = re.compile(r"[0-9a-f]{32}\.json")
INVALID_SUFFIX = ".invalid.csv"  # next to the body: <hex>.invalid.csv (never a body name)
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


class BadInput(Exception):
    """The input cannot be used at all; str() is one sentence for the user."""


@dataclass(frozen=True)
class Counts:
    """read = valid + duplicates + invalid (blank lines and the header are not read)."""

    read: int = 0
    valid: int = 0
    duplicates: int = 0
    invalid: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Invalid:
    line: int
    raw: str
    reason: str


@dataclass(frozen=True)
class Layout:
    """How to read a CSV file: found once from its first 64 KB."""

    delimiter: str
    has_header: bool
    number_col: int
    attr_cols: tuple[int, ...] = ()
    attr_names: tuple[str, ...] = ()
    number_name: str = "column 1"


@dataclass
class ChunkResult:
    """What a worker sends back: valid numbers as ints (E.164 digits) with their JSON."""

    read: int = 0
    keys: array = field(default_factory=lambda: array("q"))
    fragments: list[str] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)  # the first INVALID_SHOWN
    invalid_rows: list[str] = field(default_factory=list)  # every invalid entry, as CSV rows
    invalid_count: int = 0
    size: int = 0  # bytes of input this chunk covered, for progress


@dataclass(frozen=True)
class InvalidFile:
    """Every invalid entry as CSV (line, entry, reason), or the first `rows` when `cut`."""

    path: Path
    rows: int
    cut: bool


@dataclass(frozen=True)
class Prepared:
    """The outcome of preparing a list: counts, the first invalid entries, the request body
    file, and the file of all invalid entries (None when there are none)."""

    body_path: Path
    body_bytes: int
    counts: Counts
    invalid: list[Invalid]
    attr_names: tuple[str, ...]
    invalid_file: InvalidFile | None = None

    @property
    def body_name(self) -> str:
        return self.body_path.name


# ---------------------------------------------------------------------------- normalization


def normalize_number(raw: str, region: str | None) -> tuple[str | None, str | None]:
    """(E.164, None) for a valid number, else (None, reason a person understands)."""
    text = raw.strip()
    if not text:
        return None, "empty"
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return None, _parse_reason(exc, text, region)
    if not phonenumbers.is_valid_number(parsed):
        possible = phonenumbers.is_possible_number_with_reason(parsed)
        if possible == ValidationResult.TOO_SHORT:
            return None, "too short"
        if possible == ValidationResult.TOO_LONG:
            return None, "too long"
        where = phonenumbers.region_code_for_country_code(parsed.country_code)
        known = where not in (None, "ZZ", "001")
        return None, (f"not a valid {where} number" if known else "not a valid number")
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164), None


def _parse_reason(exc: NumberParseException, text: str, region: str | None) -> str:
    kind = exc.error_type
    if kind == NumberParseException.INVALID_COUNTRY_CODE:
        if region is None and not text.startswith(("+", "tel:+")):
            return NO_REGION_REASON
        return "unknown country code"
    if kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
        return "too short"
    if kind == NumberParseException.TOO_LONG:
        return "too long"
    return "not a phone number"


def looks_like_number(cell: str) -> bool:
    """Cheap check used to find the number column (no region needed)."""
    cell = cell.strip()
    if not _LOOKS_LIKE_NUMBER.fullmatch(cell):
        return False
    digits = sum(ch.isdigit() for ch in cell)
    return 6 <= digits <= 17


def _fragment(e164: str, names: tuple[str, ...], values: tuple[str, ...]) -> str:
    """One `numbers[]` item as JSON text; the dialer wants `attributes` as a list."""
    if not names:
        return '{"number":"' + e164 + '","attributes":[]}'
    attrs = [{"name": n, "value": v} for n, v in zip(names, values, strict=False)]
    return (
        '{"number":"'
        + e164
        + '","attributes":'
        + json.dumps(attrs, ensure_ascii=False, separators=(",", ":"))
        + "}"
    )


Row = tuple[int, str, tuple[str, ...]]  # line number, raw number, attribute values


def normalize_rows(rows: list[Row], region: str | None, attr_names: tuple[str, ...]) -> ChunkResult:
    """Normalize rows; duplicates *within* the chunk are left for the parent to count."""
    out = ChunkResult()
    for line, raw, values in rows:
        out.read += 1
        e164, reason = normalize_number(raw, region)
        if e164 is None:
            out.invalid_count += 1
            reason = reason or "invalid"
            if len(out.invalid) < INVALID_SHOWN:
                out.invalid.append(Invalid(line, _clip(raw), reason))
            out.invalid_rows.append(invalid_row(line, raw, reason))
            continue
        out.keys.append(int(e164[1:]))
        out.fragments.append(_fragment(e164, attr_names, values))
    return out


def _clip(raw: str, limit: int = RAW_SHOWN_CHARS) -> str:
    raw = raw.strip()
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


_FORMULA_START = ("=", "@", "\t", "\r")
_PHONE_CHARS = re.compile(r"[+\-]?[\d\s().\-/+]*")


def _csv_safe(entry: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: such an entry gets a
    leading apostrophe, except a plain number like "+420 12" (a sign, digits, separators)."""
    if entry.startswith(_FORMULA_START) or (
        entry.startswith(("+", "-")) and not _PHONE_CHARS.fullmatch(entry)
    ):
        return "'" + entry
    return entry


def invalid_row(line: int, raw: str, reason: str) -> str:
    """One row of the invalid-entries CSV (RFC 4180 quoting, CRLF)."""
    out = io.StringIO()
    csv.writer(out).writerow((line, _csv_safe(_clip(raw, RAW_FILE_CHARS)), reason))
    return out.getvalue()


# ---------------------------------------------------------------------------- pasted text


def split_pasted(text: str) -> list[Row]:
    """One number per line, or several separated by commas or semicolons; blanks skipped."""
    rows: list[Row] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        for part in _PASTE_SEPARATORS.split(line):
            if part.strip():
                rows.append((line_no, part.strip(), ()))
    return rows


# ---------------------------------------------------------------------------- CSV files


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise BadInput(
            f"The file is {_mb(size)}; the limit is {_mb(limit)}. "
            "Split it into smaller files or remove unused columns."
        )


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def decode_sample(data: bytes, *, whole_file: bool) -> str:
    """The first bytes of an upload as text, or BadInput for empty or binary files."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise BadInput("The file is empty.")
    if data.startswith(_EXCEL_MAGIC):
        raise BadInput(
            "This looks like an Excel workbook, not CSV. Save it as “CSV UTF-8” and upload again."
        )
    if b"\x00" in data:
        raise BadInput("This is a binary file, not CSV text. Upload a .csv or .txt file.")
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    try:
        return decoder.decode(data, final=whole_file)
    except UnicodeDecodeError:
        raise BadInput(
            "The file is not UTF-8 text (binary, or another encoding). "
            "Save it as “CSV UTF-8” and upload again."
        ) from None


def detect_layout(sample: str, *, whole_file: bool = True) -> Layout:
    """Delimiter by csv.Sniffer (fallback ','), then the number column: by its header
    (number/phone/phone_number/msisdn/tel), else the first column whose values look like
    phone numbers. Other columns become attributes."""
    lines = sample.splitlines()
    if not whole_file and len(lines) > 1:
        lines = lines[:-1]  # the sample may end in the middle of a line
    text = "\n".join(lines[:200])
    try:
        delimiter = csv.Sniffer().sniff(text, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if _non_blank(r)]
    except csv.Error as exc:
        raise BadInput(f"The file is not readable as CSV ({exc}).") from None
    if not rows:
        raise BadInput("The file is empty.")
    first = rows[0]
    names = [_header_key(c) for c in first]
    number_col = next((i for i, n in enumerate(names) if n in NUMBER_HEADERS), None)
    has_header = number_col is not None or not any(looks_like_number(c) for c in first)
    if number_col is None:
        data = rows[1:] if has_header else rows
        number_col = _numeric_column(data)
    if number_col is None:
        raise BadInput(
            "No column of phone numbers found. Name the column number, phone, phone_number, "
            "msisdn or tel, or put the numbers in the first column."
        )
    width = max(len(r) for r in rows[:50])
    attr_cols = tuple(i for i in range(width) if i != number_col)
    if len(attr_cols) > MAX_ATTRIBUTE_COLUMNS:
        raise BadInput(
            f"The file has {width} columns; at most {MAX_ATTRIBUTE_COLUMNS} columns besides "
            "the number are supported. Remove the columns the dialer does not need."
        )
    attr_names = tuple(_column_name(first, i, has_header) for i in attr_cols)
    return Layout(
        delimiter=delimiter,
        has_header=has_header,
        number_col=number_col,
        attr_cols=attr_cols,
        attr_names=attr_names,
        number_name=_column_name(first, number_col, has_header),
    )


def _non_blank(row: list[str]) -> bool:
    return any(c.strip() for c in row)


def _header_key(cell: str) -> str:
    return cell.strip().lower().replace(" ", "_").replace("-", "_")


def _column_name(first: list[str], i: int, has_header: bool) -> str:
    if has_header and i < len(first) and first[i].strip():
        return first[i].strip()
    return f"column {i + 1}"


def _numeric_column(rows: list[list[str]]) -> int | None:
    """The first column where most non-empty cells look like phone numbers."""
    width = max((len(r) for r in rows), default=0)
    for i in range(width):
        cells = [r[i] for r in rows[:50] if i < len(r) and r[i].strip()]
        if cells and sum(looks_like_number(c) for c in cells) * 2 > len(cells):
            return i
    return None


def read_layout(path: Path) -> tuple[Layout, int]:
    """Check the file's start and find its layout; returns (layout, byte offset of data)."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
        whole = not f.read(1)
    sample = decode_sample(head, whole_file=whole)
    layout = detect_layout(sample, whole_file=whole)
    offset = 3 if head.startswith(codecs.BOM_UTF8) else 0
    if layout.has_header:
        # Skip blank lines and the header line itself (a quoted header with a newline is
        # not supported: header names never contain one in practice).
        pos = offset
        while True:
            end = head.find(b"\n", pos)
            line = head[pos:] if end < 0 else head[pos:end]
            pos = len(head) if end < 0 else end + 1
            if line.strip() or end < 0:
                break
        offset = pos
    return layout, offset


def header_lines(path: Path, offset: int) -> int:
    """How many lines come before `offset` (so line numbers match the user's editor)."""
    with path.open("rb") as f:
        return f.read(offset).count(b"\n")


def _scan(path: Path) -> tuple[Layout, int, int, int]:
    """(layout, data offset, first data line number, file size) in one trip to a thread."""
    layout, offset = read_layout(path)
    return layout, offset, header_lines(path, offset) + 1, path.stat().st_size


def iter_blocks(path: Path, offset: int, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """Whole-line blocks of the file from `offset`; never cuts inside a quoted field."""
    with path.open("rb") as f:
        f.seek(offset)
        carry = b""
        carry_quotes = 0  # quotes in `carry`: each byte is counted once, so this stays O(n)
        while True:
            data = f.read(block_bytes)
            if not data:
                if carry:
                    yield carry
                return
            cut = data.rfind(b"\n") + 1
            head_quotes = carry_quotes + data.count(b'"', 0, cut)
            # No newline, or an odd number of quotes (the cut would fall inside a quoted
            # field): keep reading. A stray quote makes the rest one block, which the size
            # limit bounds and the CSV reader then reports.
            if not cut or head_quotes % 2:
                carry += data
                carry_quotes += data.count(b'"')
                continue
            yield carry + data[:cut]
            carry = data[cut:]
            carry_quotes = carry.count(b'"')


def normalize_block(
    block: bytes, first_line: int, layout: Layout, region: str | None
) -> ChunkResult:
    """Worker entry point for files: decode, parse and normalize one block of lines."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + block.count(b"\n", 0, exc.start)
        raise BadInput(
            f"Line {line} is not UTF-8 text. Save the file as “CSV UTF-8” and upload again."
        ) from None
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter)
    col, attr_cols = layout.number_col, layout.attr_cols
    try:
        ended = 0  # reader.line_num after the previous record: a record starts after it
        for row in reader:
            line, ended = first_line + ended, reader.line_num
            if not _non_blank(row):
                continue
            raw = row[col] if col < len(row) else ""
            values = tuple(row[i] if i < len(row) else "" for i in attr_cols)
            rows.append((line, raw, values))
    except csv.Error as exc:
        line = first_line + reader.line_num - 1
        raise BadInput(f"Line {line} is not readable as CSV ({exc}).") from None
    result = normalize_rows(rows, region, layout.attr_names)
    result.size = len(block)
    return result


# ---------------------------------------------------------------------------- process pool

_pool: ProcessPoolExecutor | None = None


def pool_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def get_pool() -> ProcessPoolExecutor:
    """One pool per process, created on first use. forkserver (or spawn) rather than fork:
    forking a process that runs an event loop and threads can copy held locks."""
    global _pool
    if _pool is None:
        methods = multiprocessing.get_all_start_methods()
        method = "forkserver" if "forkserver" in methods else "spawn"
        _pool = ProcessPoolExecutor(
            max_workers=pool_workers(), mp_context=multiprocessing.get_context(method)
        )
    return _pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


# ---------------------------------------------------------------------------- the job

Progress = Callable[[int, float | None], Awaitable[None]]  # numbers checked, fraction done


class _InvalidWriter:
    """Appends the workers' CSV rows of invalid entries to a file next to the body, as they
    arrive (nothing kept in memory); whole rows only, up to `max_bytes`, then counts the rest.
    UTF-8 with a BOM, as Excel's own "CSV UTF-8" is, so Excel reads non-ASCII entries."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self._f = path.open("wb")
        header = "\ufeff" + ",".join(INVALID_FILE_HEADER) + "\r\n"
        self._f.write(header.encode())
        self.bytes = len(header.encode())
        self._max = max_bytes
        self.rows = 0
        self.cut = False

    def add(self, rows: list[str]) -> None:
        if self.cut or not rows:
            return
        data = "".join(rows).encode()
        if self.bytes + len(data) <= self._max:
            self._f.write(data)
            self.bytes += len(data)
            self.rows += len(rows)
            return
        for row in rows:
            raw = row.encode()
            if self.bytes + len(raw) > self._max:
                self.cut = True
                return
            self._f.write(raw)
            self.bytes += len(raw)
            self.rows += 1

    def close(self) -> InvalidFile:
        self._f.close()
        return InvalidFile(self.path, self.rows, self.cut)

    def abort(self) -> None:
        self._f.close()
        self.path.unlink(missing_ok=True)


class _Merger:
    """Deduplicates across chunks (first occurrence wins), writes the request body and the
    invalid-entries CSV."""

    def __init__(
        self, path: Path, name: str, max_numbers: int, max_body: int, max_invalid_file: int
    ) -> None:
        self.path = path
        self._f = path.open("w", encoding="utf-8")
        self._f.write('{"name":' + json.dumps(name, ensure_ascii=False) + ',"numbers":[')
        self._seen: set[int] = set()
        self._max_numbers = max_numbers
        self._max_body = max_body
        self._max_invalid_file = max_invalid_file
        self._invalid_file: _InvalidWriter | None = None  # opened at the first invalid entry
        self.bytes = 0
        self.read = self.valid = self.duplicates = self.invalid_count = 0
        self.invalid: list[Invalid] = []

    def add(self, result: ChunkResult) -> None:
        self.read += result.read
        self.invalid_count += result.invalid_count
        room = INVALID_SHOWN - len(self.invalid)
        if room > 0:
            self.invalid.extend(result.invalid[:room])
        if result.invalid_rows:
            if self._invalid_file is None:
                path = self.path.with_name(self.path.stem + INVALID_SUFFIX)
                self._invalid_file = _InvalidWriter(path, self._max_invalid_file)
            self._invalid_file.add(result.invalid_rows)
        seen, out = self._seen, []
        for key, frag in zip(result.keys, result.fragments, strict=True):
            if key in seen:
                self.duplicates += 1
            else:
                seen.add(key)
                out.append(frag)
        if not out:
            return
        text = ("," if self.valid else "") + ",".join(out)
        self.valid += len(out)
        self.bytes += len(text.encode())
        if self.valid > self._max_numbers:
            raise BadInput(
                f"More than {self._max_numbers:,} valid numbers: the dialer takes at most "
                f"{self._max_numbers:,} per call list. Split the file into several lists."
            )
        if self.bytes > self._max_body:
            raise BadInput(
                f"The list would be larger than {_mb(self._max_body)} for the dialer; "
                "remove columns you do not need or split the file."
            )
        self._f.write(text)

    def finish(self) -> tuple[int, InvalidFile | None]:
        """Close both files: (body size, the invalid-entries file if any)."""
        self._f.write("]}")
        self._f.close()
        invalid = self._invalid_file.close() if self._invalid_file is not None else None
        return self.path.stat().st_size, invalid

    def abort(self) -> None:
        self._f.close()
        self.path.unlink(missing_ok=True)
        if self._invalid_file is not None:
            self._invalid_file.abort()

    @property
    def counts(self) -> Counts:
        return Counts(self.read, self.valid, self.duplicates, self.invalid_count)


def new_body_path(directory: Path) -> Path:
    """An unguessable file name; `resolve_body` accepts only names of this shape."""
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{secrets.token_hex(16)}.json"


def resolve_body(directory: Path, name: object) -> Path | None:
    """The body file a claim names, only if it is one of ours (forged-value defence)."""
    if not isinstance(name, str) or not _BODY_NAME.fullmatch(name):
        return None
    path = (directory / name).resolve()
    if path.parent != directory.resolve() or not path.is_file():
        return None
    return path


def sweep(directory: Path, max_age_s: float) -> int:
    """Remove upload leftovers older than `max_age_s` (expired confirmations, crashes)."""
    if not directory.is_dir():
        return 0
    cutoff = time.time() - max_age_s
    removed = 0
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


async def prepare_pasted(
    text: str,
    *,
    name: str,
    region: str | None,
    directory: Path,
    max_numbers: int = MAX_NUMBERS,
    max_invalid_file: int = MAX_INVALID_FILE_BYTES,
) -> Prepared:
    """Pasted text is small (Slack caps the box at 3,000 characters) but uses the same pool."""
    rows = split_pasted(text)
    if not rows:
        raise BadInput("No numbers found in the pasted text.")
    loop = asyncio.get_running_loop()
    merger = _Merger(new_body_path(directory), name, max_numbers, MAX_BODY_BYTES, max_invalid_file)
    try:
        result = await loop.run_in_executor(get_pool(), normalize_rows, rows, region, ())
        await asyncio.to_thread(merger.add, result)
        size, invalid_file = await asyncio.to_thread(merger.finish)
    except BaseException:
        merger.abort()
        raise
    return Prepared(merger.path, size, merger.counts, merger.invalid, (), invalid_file)


async def prepare_file(
    path: Path,
    *,
    name: str,
    region: str | None,
    directory: Path,
    progress: Progress | None = None,
    progress_every_s: float = 3.0,
    max_numbers: int = MAX_NUMBERS,
    max_body: int = MAX_BODY_BYTES,
    block_bytes: int = BLOCK_BYTES,
    max_invalid_file: int = MAX_INVALID_FILE_BYTES,
) -> Prepared:
    """Stream `path` through the pool in whole-line blocks, keeping a few in flight."""
    loop = asyncio.get_running_loop()
    layout, offset, line, size = await asyncio.to_thread(_scan, path)
    total = max(1, size - offset)
    pool = get_pool()
    window = pool_workers() + 2
    blocks = iter_blocks(path, offset, block_bytes)
    merger = _Merger(new_body_path(directory), name, max_numbers, max_body, max_invalid_file)
    in_flight: deque[asyncio.Future[ChunkResult]] = deque()
    done_bytes = 0
    last = time.monotonic()

    async def merge_oldest() -> None:
        nonlocal done_bytes, last
        result = await in_flight.popleft()
        await asyncio.to_thread(merger.add, result)
        done_bytes += result.size
        if progress is not None and time.monotonic() - last >= progress_every_s:
            last = time.monotonic()
            await progress(merger.read, min(1.0, done_bytes / total))

    try:
        while True:
            block = await asyncio.to_thread(next, blocks, None)
            if block is None:
                break
            in_flight.append(
                loop.run_in_executor(pool, normalize_block, block, line, layout, region)
            )
            line += block.count(b"\n")
            while len(in_flight) >= window:
                await merge_oldest()
        while in_flight:
            await merge_oldest()
        if merger.read == 0:
            raise BadInput("The file has no numbers below its header.")
        size, invalid_file = await asyncio.to_thread(merger.finish)
    except BaseException:
        for fut in in_flight:
            fut.cancel()
        blocks.close()
        merger.abort()
        raise
    return Prepared(
        merger.path, size, merger.counts, merger.invalid, layout.attr_names, invalid_file
    )


def describe(prepared: Prepared) -> dict[str, Any]:
    """What may be recorded about a prepared list: counts and column names, never numbers."""
    return {"counts": prepared.counts.as_dict(), "columns": list(prepared.attr_names)}
