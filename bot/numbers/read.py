"""Reading an uploaded CSV file without holding it whole: check its size and start (empty,
Excel, binary, not UTF-8), sniff its layout from the first 64 KB, and cut the rest into
blocks of whole lines for the workers. No normalisation and no pool here.

Text is UTF-8 (with or without a BOM) or, as Excel's "Unicode text" writes it, UTF-16 with
a BOM. The blocks and the workers read UTF-8 only, so a UTF-16 file is re-encoded once
into a UTF-8 copy (`utf8_copy`) before it is cut.
"""

from __future__ import annotations

import codecs
import csv
import io
import secrets
from collections.abc import Iterator
from pathlib import Path

from bot.numbers.model import (
    BLOCK_BYTES,
    MAX_ATTRIBUTE_COLUMNS,
    NUMBER_HEADERS,
    SNIFF_BYTES,
    BadInput,
    Layout,
    mb,
)
from bot.numbers.normalize import looks_like_number, non_blank

_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
# Byte-order mark -> the codec that reads what follows it (the BOM itself is skipped).
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAVE_AS = "Save it as “CSV UTF-8” and upload again."
_COPY_CHUNK = 1024 * 1024


def _encoding(head: bytes) -> tuple[str, int]:
    """(codec, BOM length) of a file starting with `head`; UTF-8 without a BOM otherwise."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    return "utf-8", 0


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise BadInput(
            f"The file is {mb(size)}; the limit is {mb(limit)}. "
            "Split it into smaller files or remove unused columns."
        )


def decode_sample(data: bytes, *, whole_file: bool) -> str:
    """The first bytes of an upload as text (BOM removed), or BadInput for empty or binary
    files and encodings we cannot tell; the message names the encoding to save as."""
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise BadInput("The file is empty.")
    if data.startswith(_EXCEL_MAGIC):
        raise BadInput(f"This looks like an Excel workbook, not CSV. {_SAVE_AS}")
    codec, bom = _encoding(data)
    if codec == "utf-8" and b"\x00" in data:
        raise BadInput(
            "The file is not UTF-8 text: it is a binary file, or UTF-16 text without a "
            f"byte-order mark. {_SAVE_AS}"
        )
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        return decoder.decode(data[bom:], final=whole_file)
    except UnicodeDecodeError:
        if codec == "utf-8":
            raise BadInput(
                f"The file is not UTF-8 text (binary, or another encoding). {_SAVE_AS}"
            ) from None
        raise BadInput(
            f"The file starts like UTF-16 text but is not readable as it. {_SAVE_AS}"
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
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if non_blank(r)]
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
    codec, offset = _encoding(head)
    if layout.has_header:
        # Skip blank lines and the header line itself (a quoted header with a newline is
        # not supported: header names never contain one in practice).
        pos = 0
        while True:
            end = sample.find("\n", pos)
            line = sample[pos:] if end < 0 else sample[pos:end]
            pos = len(sample) if end < 0 else end + 1
            if line.strip() or end < 0:
                break
        offset += len(sample[:pos].encode(codec))
    return layout, offset


def utf8_copy(path: Path, directory: Path) -> Path | None:
    """A UTF-8 copy in `directory` of a UTF-16 file (None for any other file), re-encoded
    in chunks so a large upload is never held whole. The caller removes the copy."""
    with path.open("rb") as src:
        codec, bom = _encoding(src.read(3))
        if not codec.startswith("utf-16"):
            return None
        src.seek(bom)
        out = directory / f"{secrets.token_hex(16)}.utf8.csv"
        decoder = codecs.getincrementaldecoder(codec)("strict")
        lines = 0
        try:
            with out.open("wb") as dst:
                while True:
                    chunk = src.read(_COPY_CHUNK)
                    pending, _ = decoder.getstate()
                    try:
                        text = decoder.decode(chunk, final=not chunk)
                    except UnicodeDecodeError as exc:
                        good = (pending + chunk)[: exc.start].decode(codec, "replace")
                        line = lines + good.count("\n") + 1
                        raise BadInput(f"Line {line} is not UTF-16 text. {_SAVE_AS}") from None
                    lines += text.count("\n")
                    dst.write(text.encode("utf-8"))
                    if not chunk:
                        return out
        except BaseException:
            out.unlink(missing_ok=True)
            raise


def header_lines(path: Path, offset: int) -> int:
    """How many lines come before `offset` (so line numbers match the user's editor)."""
    with path.open("rb") as f:
        return f.read(offset).count(b"\n")


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
