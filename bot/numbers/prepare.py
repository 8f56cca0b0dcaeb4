"""Preparing a call list: pasted text or a CSV file in, the dialer's request body out.

No Slack and no dialer here. phonenumbers is CPU-bound (≈72,000 numbers/s on one
core), so a million numbers must not run on the event loop: the file is cut into
blocks of whole lines, each block is parsed *and* normalized in a process-pool worker, and
the parent only deduplicates and appends the worker's ready-made JSON to the request body
file (and its ready-made CSV rows to the invalid-entries file). Memory stays bounded: the
file is never held whole, the valid numbers and the invalid entries go straight to disk,
and the parent keeps one int per unique number for deduplication.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.numbers.model import (
    BLOCK_BYTES,
    EXCLUDED_SAMPLE,
    INVALID_FILE_HEADER,
    INVALID_SHOWN,
    INVALID_SUFFIX,
    MAX_BODY_BYTES,
    MAX_INVALID_FILE_BYTES,
    MAX_NUMBERS,
    BadInput,
    ChunkResult,
    Counts,
    Invalid,
    InvalidFile,
    Layout,
    Prepared,
    mb,
)
from bot.numbers.normalize import normalize_block, normalize_rows, split_pasted
from bot.numbers.pool import get_pool, pool_workers
from bot.numbers.read import header_lines, iter_blocks, read_layout, utf8_copy

Progress = Callable[[int, float | None], Awaitable[None]]  # numbers checked, fraction done


_BODY_NAME = re.compile(r"[0-9a-f]{32}\.json")


def _scan(path: Path) -> tuple[Layout, int, int, int]:
    """(layout, data offset, first data line number, file size) in one trip to a thread."""
    layout, offset = read_layout(path)
    return layout, offset, header_lines(path, offset) + 1, path.stat().st_size


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


Screen = Callable[[list[int]], set[int]]  # which of these keys are on the do-not-call list
StoreKeys = Callable[[array], int]  # add these keys to the do-not-call list; how many were new


class _Tally:
    """What every sink of checked numbers shares: the counts, the first invalid entries,
    and the invalid-entries CSV next to ``path``."""

    def __init__(self, path: Path, max_invalid_file: int) -> None:
        self.path = path
        self._max_invalid_file = max_invalid_file
        self._invalid_file: _InvalidWriter | None = None  # opened at the first invalid entry
        self.read = self.valid = self.duplicates = self.invalid_count = self.excluded = 0
        self.invalid: list[Invalid] = []
        self.excluded_sample: list[str] = []

    def _take_invalid(self, result: ChunkResult) -> None:
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

    def _close_invalid(self) -> InvalidFile | None:
        return self._invalid_file.close() if self._invalid_file is not None else None

    def _abort_invalid(self) -> None:
        if self._invalid_file is not None:
            self._invalid_file.abort()

    @property
    def counts(self) -> Counts:
        return Counts(self.read, self.valid, self.duplicates, self.invalid_count, self.excluded)


class _Merger(_Tally):
    """Deduplicates across chunks (first occurrence wins), leaves out the numbers `screen`
    names (the do-not-call list), writes the request body and the invalid-entries CSV."""

    def __init__(
        self,
        path: Path,
        name: str,
        max_numbers: int,
        max_body: int,
        max_invalid_file: int,
        screen: Screen | None = None,
    ) -> None:
        super().__init__(path, max_invalid_file)
        self._f = path.open("w", encoding="utf-8")
        self._f.write('{"name":' + json.dumps(name, ensure_ascii=False) + ',"numbers":[')
        self._seen: set[int] = set()
        self._max_numbers = max_numbers
        self._max_body = max_body
        self._screen = screen
        self.bytes = 0

    def add(self, result: ChunkResult) -> None:
        self._take_invalid(result)
        seen, keys, out = self._seen, [], []
        for key, frag in zip(result.keys, result.fragments, strict=True):
            if key in seen:
                self.duplicates += 1
            else:
                seen.add(key)
                keys.append(key)
                out.append(frag)
        if self._screen is not None and keys:
            out = self._leave_out_listed(keys, out)
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
                f"The list would be larger than {mb(self._max_body)} for the dialer; "
                "remove columns you do not need or split the file."
            )
        self._f.write(text)

    def _leave_out_listed(self, keys: list[int], fragments: list[str]) -> list[str]:
        """The one filtering step: numbers on the do-not-call list never reach the body."""
        assert self._screen is not None
        listed = self._screen(keys)
        if not listed:
            return fragments
        kept = [frag for key, frag in zip(keys, fragments, strict=True) if key not in listed]
        self.excluded += len(fragments) - len(kept)
        room = EXCLUDED_SAMPLE - len(self.excluded_sample)
        if room > 0:
            self.excluded_sample.extend([f"+{k}" for k in keys if k in listed][:room])
        return kept

    def finish(self) -> tuple[int, InvalidFile | None]:
        """Close both files: (body size, the invalid-entries file if any)."""
        self._f.write("]}")
        self._f.close()
        return self.path.stat().st_size, self._close_invalid()

    def abort(self) -> None:
        self._f.close()
        self.path.unlink(missing_ok=True)
        self._abort_invalid()


class _KeysSink(_Tally):
    """The do-not-call import: each chunk's numbers go to `store_keys` as they come (no
    request body, no set of every number in memory: the database's key finds repeats);
    `valid` counts the numbers new to the list, `duplicates` those already on it."""

    def __init__(self, path: Path, max_invalid_file: int, store_keys: StoreKeys) -> None:
        super().__init__(path, max_invalid_file)
        self._store_keys = store_keys

    def add(self, result: ChunkResult) -> None:
        self._take_invalid(result)
        if result.keys:
            new = self._store_keys(result.keys)
            self.valid += new
            self.duplicates += len(result.keys) - new

    def finish(self) -> tuple[int, InvalidFile | None]:
        return 0, self._close_invalid()

    def abort(self) -> None:
        self._abort_invalid()


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
    screen: Screen | None = None,
    store_keys: StoreKeys | None = None,
) -> Prepared:
    """Pasted text is small (Slack caps the box at 3,000 characters) but uses the same pool.
    ``screen`` and ``store_keys``: as for :func:`prepare_file`."""
    rows = split_pasted(text)
    if not rows:
        raise BadInput("No numbers found in the pasted text.")
    loop = asyncio.get_running_loop()
    sink = _sink(directory, name, max_numbers, MAX_BODY_BYTES, max_invalid_file, screen, store_keys)
    keys_only = store_keys is not None
    try:
        result = await loop.run_in_executor(get_pool(), normalize_rows, rows, region, (), keys_only)
        await asyncio.to_thread(sink.add, result)
        size, invalid_file = await asyncio.to_thread(sink.finish)
    except BaseException:
        sink.abort()
        raise
    return _prepared(sink, size, (), invalid_file)


def _sink(
    directory: Path,
    name: str,
    max_numbers: int,
    max_body: int,
    max_invalid_file: int,
    screen: Screen | None,
    store_keys: StoreKeys | None,
) -> _Merger | _KeysSink:
    """A call list's body (screened when `screen` is given), or the do-not-call import."""
    path = new_body_path(directory)
    if store_keys is not None:
        return _KeysSink(path, max_invalid_file, store_keys)
    return _Merger(path, name, max_numbers, max_body, max_invalid_file, screen)


def _prepared(
    sink: _Merger | _KeysSink,
    size: int,
    attr_names: tuple[str, ...],
    invalid_file: InvalidFile | None,
) -> Prepared:
    return Prepared(
        sink.path,
        size,
        sink.counts,
        sink.invalid,
        attr_names,
        invalid_file,
        tuple(sink.excluded_sample),
    )


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
    screen: Screen | None = None,
    store_keys: StoreKeys | None = None,
) -> Prepared:
    """Stream `path` through the pool in whole-line blocks, keeping a few in flight.

    ``screen``: numbers it names (the do-not-call list) are left out of the body and
    counted as ``excluded``. ``store_keys``: the do-not-call import instead of a call list:
    each chunk's numbers go to it, and no body is written (``body_bytes`` 0)."""
    copy = await asyncio.to_thread(utf8_copy, path, directory)
    try:
        return await _prepare_utf8(
            copy or path,
            name=name,
            region=region,
            directory=directory,
            progress=progress,
            progress_every_s=progress_every_s,
            max_numbers=max_numbers,
            max_body=max_body,
            block_bytes=block_bytes,
            max_invalid_file=max_invalid_file,
            screen=screen,
            store_keys=store_keys,
        )
    finally:
        if copy is not None:
            await asyncio.to_thread(copy.unlink, missing_ok=True)


async def _prepare_utf8(
    path: Path,
    *,
    name: str,
    region: str | None,
    directory: Path,
    progress: Progress | None,
    progress_every_s: float,
    max_numbers: int,
    max_body: int,
    block_bytes: int,
    max_invalid_file: int,
    screen: Screen | None,
    store_keys: StoreKeys | None,
) -> Prepared:
    loop = asyncio.get_running_loop()
    layout, offset, line, size = await asyncio.to_thread(_scan, path)
    total = max(1, size - offset)
    pool = get_pool()
    window = pool_workers() + 2
    blocks = iter_blocks(path, offset, block_bytes)
    merger = _sink(directory, name, max_numbers, max_body, max_invalid_file, screen, store_keys)
    keys_only = store_keys is not None
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
                loop.run_in_executor(pool, normalize_block, block, line, layout, region, keys_only)
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
    return _prepared(merger, size, layout.attr_names, invalid_file)


def describe(prepared: Prepared) -> dict[str, Any]:
    """What may be recorded about a prepared list: counts and column names, never numbers."""
    return {"counts": prepared.counts.as_dict(), "columns": list(prepared.attr_names)}
