"""Call-list numbers: reading pasted text and CSV files, E.164 normalisation in a process
pool, and the request body and invalid-entries file it writes. No Slack and no dialer here.
"""

from bot.numbers.prepare import (
    MAX_INVALID_FILE_BYTES,
    NO_REGION_REASON,
    BadInput,
    Counts,
    Invalid,
    InvalidFile,
    Prepared,
    detect_layout,
    normalize_number,
    split_pasted,
)

__all__ = [
    "MAX_INVALID_FILE_BYTES",
    "NO_REGION_REASON",
    "BadInput",
    "Counts",
    "Invalid",
    "InvalidFile",
    "Prepared",
    "detect_layout",
    "normalize_number",
    "split_pasted",
]
