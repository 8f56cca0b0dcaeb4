"""Numbers per time zone: the upload pipeline's zone-counting step, in the process pool.

A number's possible zones come from the number itself (phonenumbers.timezone); a number
with several possible zones counts in each. Only counts leave this module, never numbers.
The step reads the prepared request body, the file the dialer gets, so it counts exactly
the numbers sent, after every other step of the upload (normalising, deduplicating,
filtering).

phonenumbers takes ≈30 µs a number, 30 s for a million; the answer depends on the leading
digits only, so it is cached by prefix (bench/zones.py).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

UNKNOWN_ZONE = "Etc/Unknown"  # phonenumbers' answer when a number's zone is not known

# The cache key: a number without its last 4 digits, and its length. phonenumbers decides
# a number's type and zone from its leading digits (the longest prefix in its zone data
# is shorter than any E.164 number less 4 digits), so numbers sharing both share their zones.
_TAIL = 4


@lru_cache(maxsize=200_000)
def zones_for_prefix(prefix: str, length: int) -> tuple[str, ...]:
    """Zones of any number starting with ``prefix`` (E.164, '+' included) of ``length``."""
    import phonenumbers
    from phonenumbers import timezone

    sample = prefix + "5" * (length - len(prefix))
    try:
        parsed = phonenumbers.parse(sample, None)
    except phonenumbers.NumberParseException:
        return (UNKNOWN_ZONE,)
    zones = tuple(timezone.time_zones_for_number(parsed))
    return zones or (UNKNOWN_ZONE,)


def zones_of(e164: str) -> tuple[str, ...]:
    """The possible zones of one E.164 number (cached by prefix)."""
    if len(e164) <= _TAIL + 2:
        return zones_for_prefix(e164, len(e164))
    return zones_for_prefix(e164[:-_TAIL], len(e164))


def count_numbers(numbers: Iterable[str]) -> dict[str, int]:
    """Numbers per zone; a number with several zones counts in each."""
    counts: Counter[str] = Counter()
    by_prefix: Counter[tuple[str, int]] = Counter()
    for n in numbers:
        by_prefix[(n[:-_TAIL] if len(n) > _TAIL + 2 else n, len(n))] += 1
    for (prefix, length), k in by_prefix.items():
        for zone in zones_for_prefix(prefix, length):
            counts[zone] += k
    return dict(counts)


def count_body(path: str) -> dict[str, int]:
    """Zone counts of a prepared request body (`{"name":…, "numbers":[{"number":…}]}`).

    Runs in a process-pool worker: reads the file the dialer gets, so it counts exactly
    the numbers sent, after every other step of the upload."""
    with Path(path).open(encoding="utf-8") as f:
        body = json.load(f)
    return count_numbers(
        str(e["number"]) for e in body.get("numbers", ()) if isinstance(e, dict) and e.get("number")
    )


async def count_zones(path: Path) -> dict[str, int]:
    """count_body off the event loop, in the upload's process pool."""
    from bot.numbers.pool import get_pool

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(get_pool(), count_body, str(path))
