"""Call-list numbers: reading pasted text and CSV files, E.164 normalisation in a process
pool, the request body and invalid-entries file it writes, and masking a number for display.
No Slack and no dialer here.

This facade is what callers import; the parts are `model` (limits and data), `read` (sniffing
and cutting a file), `normalize` (the workers' code), `pool` and `prepare` (the job).
"""

from bot.numbers.model import (
    INVALID_SHOWN,
    MAX_INVALID_FILE_BYTES,
    NO_REGION_REASON,
    VISIBLE_DIGITS,
    BadInput,
    Counts,
    Invalid,
    InvalidFile,
    Layout,
    Prepared,
    mask_number,
)
from bot.numbers.normalize import normalize_number, split_pasted
from bot.numbers.pool import current_pool, pool_workers, shutdown_pool
from bot.numbers.prepare import (
    Progress,
    Screen,
    StoreKeys,
    describe,
    new_body_path,
    prepare_file,
    prepare_pasted,
    resolve_body,
    sweep,
)
from bot.numbers.read import check_size, detect_layout, iter_blocks, read_layout

__all__ = [
    "INVALID_SHOWN",
    "MAX_INVALID_FILE_BYTES",
    "NO_REGION_REASON",
    "VISIBLE_DIGITS",
    "BadInput",
    "Counts",
    "Invalid",
    "InvalidFile",
    "Layout",
    "Prepared",
    "Progress",
    "Screen",
    "StoreKeys",
    "check_size",
    "current_pool",
    "describe",
    "detect_layout",
    "iter_blocks",
    "mask_number",
    "new_body_path",
    "normalize_number",
    "pool_workers",
    "prepare_file",
    "prepare_pasted",
    "read_layout",
    "resolve_body",
    "shutdown_pool",
    "split_pasted",
    "sweep",
]
