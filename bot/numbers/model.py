"""The shapes of call-list numbers work: limits, the error a user reads, the counts and
the outcome of preparing a list, and the one rule for showing a number masked (phone
numbers are personal data). Plain data only; no parsing, files or processes here.
"""

from __future__ import annotations

from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
EXCLUDED_SAMPLE = 5  # numbers left out for the do-not-call list, named (masked) in the summary
RAW_FILE_CHARS = 200  # an entry this long is not a phone number; the file need not hold more
NO_REGION_REASON = "national number but no country chosen"

INVALID_SUFFIX = ".invalid.csv"  # next to the body: <hex>.invalid.csv (never a body name)

Row = tuple[int, str, tuple[str, ...]]  # line number, raw number, attribute values


class BadInput(Exception):
    """The input cannot be used at all; str() is one sentence for the user."""


@dataclass(frozen=True)
class Counts:
    """read = valid + duplicates + invalid + excluded (blank lines and the header are not
    read). ``excluded``: valid numbers left out because they are on the do-not-call list."""

    read: int = 0
    valid: int = 0
    duplicates: int = 0
    invalid: int = 0
    excluded: int = 0

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
    excluded_sample: tuple[str, ...] = ()  # the first numbers left out, E.164 (mask to show)

    @property
    def body_name(self) -> str:
        return self.body_path.name


def mb(n: int) -> str:
    """Bytes as megabytes for messages (one decimal)."""
    return f"{n / (1024 * 1024):.1f} MB"


MASK = "•"
VISIBLE_DIGITS = 3


def mask_number(number: str, visible: int = VISIBLE_DIGITS) -> str:
    """Every digit but the last ``visible`` replaced: ``+420601000001`` → ``+•••••••••001``.

    Other characters (``+``, spaces, dashes) stay, so the shape still reads as a number.
    """
    digits = sum(ch.isdigit() for ch in number)
    hide = max(0, digits - visible)
    out: list[str] = []
    for ch in number:
        if ch.isdigit() and hide > 0:
            out.append(MASK)
            hide -= 1
        elif ch.isdigit() or not ch.isalnum():
            out.append(ch)
        else:  # letters in a "number" could be anything: hide them too
            out.append(MASK)
    return "".join(out)
