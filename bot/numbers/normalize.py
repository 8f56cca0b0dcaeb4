"""E.164 normalisation, run inside the process-pool workers: one number, a list of rows, or
one block of CSV lines, each giving back ready-made JSON fragments and CSV rows of invalid
entries (phonenumbers is CPU-bound, ≈72,000 numbers/s on one core). No files,
no pool and no Slack here.
"""

from __future__ import annotations

import csv
import io
import json
import re

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    ValidationResult,
)

from bot.numbers.model import (
    INVALID_SHOWN,
    NO_REGION_REASON,
    RAW_FILE_CHARS,
    RAW_SHOWN_CHARS,
    BadInput,
    ChunkResult,
    Invalid,
    Layout,
    Row,
)

_LOOKS_LIKE_NUMBER = re.compile(r"(?:tel:)?\+?[\d\s().\-/]+")
_PASTE_SEPARATORS = re.compile(r"[,;]")


_CANONICAL = re.compile(r"\+([1-9]\d{6,14})")
_NO_PREFIX = re.compile(r"(?!)")  # matches nothing: the country has no national prefix
_national_prefix: dict[int, re.Pattern[str] | None] = {}


def _prefix_for_parsing(country_code: int) -> re.Pattern[str] | None:
    """The country's national prefix for parsing, as phonenumbers.parse reads it (None: no
    metadata, so the fast path stays out of the way)."""
    if country_code not in _national_prefix:
        region = phonenumbers.region_code_for_country_code(country_code)
        meta = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
        pattern = None if meta is None else meta.national_prefix_for_parsing
        _national_prefix[country_code] = (
            None if meta is None else re.compile(pattern) if pattern else _NO_PREFIX
        )
    return _national_prefix[country_code]


def canonical_e164(text: str) -> str | None:
    """``text`` itself when it is already a valid number in E.164 form, else None (then
    the full parse decides). A do-not-call file holds millions of such lines, and parse()
    is most of the cost; this does the steps parse() would do for them, without the
    search for a number inside the text: the country code (the first 1–3 digits that are
    one), then the national number, unless it starts with 0 or a national prefix, which
    parse() may strip. tests/test_dnc.py checks it agrees with parse() for every region."""
    m = _CANONICAL.fullmatch(text)
    if m is None:
        return None
    digits = m.group(1)
    for width in (1, 2, 3):
        country_code = int(digits[:width])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[width:]
    if len(national) < 2 or national[0] == "0":
        return None
    prefix = _prefix_for_parsing(country_code)
    if prefix is None or prefix.match(national):
        return None
    checks = _validity(country_code)
    if checks is None:
        number = PhoneNumber(country_code=country_code, national_number=int(national))
        return text if phonenumbers.is_valid_number(number) else None
    general, kinds = checks
    if not _matches(general, national):
        return None
    return text if any(_matches(kind, national) for kind in kinds) else None


Desc = tuple[frozenset[int], re.Pattern[str]]
_validity_of: dict[int, tuple[Desc, list[Desc]] | None] = {}
# The types phonenumbers tries (mobile only when its pattern is its own). A number is valid
# when any of them matches, so the common ones go first: phonenumbers' own order tries
# eight rare types before fixed line and mobile.
_KINDS = (
    "fixed_line",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def _matches(desc: Desc, national: str) -> bool:
    lengths, pattern = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def _validity(country_code: int) -> tuple[Desc, list[Desc]] | None:
    """phonenumbers.is_valid_number's own test for a country with one region, with its
    patterns compiled once: the general pattern, then any number type's (possible lengths
    first, as phonenumbers checks them). None (use is_valid_number) for shared country
    codes (+1, +7, +44 …), where the region must be found first."""
    if country_code in _validity_of:
        return _validity_of[country_code]
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    meta = PhoneMetadata.metadata_for_region(regions[0]) if len(regions) == 1 else None
    found: tuple[Desc, list[Desc]] | None = None
    if meta is not None and meta.general_desc is not None:
        mobile = [] if meta.same_mobile_and_fixed_line_pattern else ["mobile"]
        names = [*mobile, *_KINDS]
        descs = [getattr(meta, name) for name in names]
        general = _desc(meta.general_desc)
        if general is not None:
            found = (general, [d for d in map(_desc, descs) if d is not None])
    _validity_of[country_code] = found
    return found


def _desc(desc: object) -> Desc | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    return frozenset(getattr(desc, "possible_length", None) or ()), re.compile(pattern)


def normalize_number(raw: str, region: str | None) -> tuple[str | None, str | None]:
    """(E.164, None) for a valid number, else (None, reason a person understands)."""
    text = raw.strip()
    if not text:
        return None, "empty"
    if text[0] == "+" and (fast := canonical_e164(text)) is not None:
        return fast, None
    if region is None and text.startswith(("00", "tel:00")):
        # With no country chosen, 00 is the international prefix (as in most of Europe).
        text = "+" + text.removeprefix("tel:")[2:]
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


def normalize_rows(
    rows: list[Row], region: str | None, attr_names: tuple[str, ...], keys_only: bool = False
) -> ChunkResult:
    """Normalize rows; duplicates *within* the chunk are left for the parent to count.
    ``keys_only``: the numbers as keys, without request-body JSON (the do-not-call list)."""
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
        if not keys_only:
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


def non_blank(row: list[str]) -> bool:
    return any(c.strip() for c in row)


def normalize_block(
    block: bytes, first_line: int, layout: Layout, region: str | None, keys_only: bool = False
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
            if not non_blank(row):
                continue
            raw = row[col] if col < len(row) else ""
            values = tuple(row[i] if i < len(row) else "" for i in attr_cols)
            rows.append((line, raw, values))
    except csv.Error as exc:
        line = first_line + reader.line_num - 1
        raise BadInput(f"Line {line} is not readable as CSV ({exc}).") from None
    result = normalize_rows(rows, region, layout.attr_names, keys_only)
    result.size = len(block)
    return result


# ---------------------------------------------------------------------------- process pool
