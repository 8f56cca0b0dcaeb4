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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

UNKNOWN_ZONE = "Etc/Unknown"  # phonenumbers' answer when a number's zone is not known

# The cache key: a number without its last 4 digits, and its length. phonenumbers decides
# a number's type and zone from its leading digits (the longest prefix in its zone data
# is shorter than any E.164 number less 4 digits), so numbers sharing both share their zones.
_TAIL = 4


@lru_cache(maxsize=200_000)
def zones_for_prefix(prefix: str, length: int) -> tuple[str, ...]:
    """Zones of any number starting with ``prefix`` (E.164, '+' included) of ``length``."""
    from phonenumbers import timezone

    number = _sample(prefix + "5" * (length - len(prefix)))
    if number is None:
        return (UNKNOWN_ZONE,)
    return tuple(timezone.time_zones_for_number(number)) or (UNKNOWN_ZONE,)


def _sample(e164: str) -> PhoneNumber | None:
    """The number built from its parts (a tenth of phonenumbers.parse's time); parse only
    for a national number with a leading zero (Italy), which needs parse's bookkeeping."""
    import phonenumbers

    digits = e164.lstrip("+")
    for size in (1, 2, 3):
        code = int(digits[:size] or 0)
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            if not national.isdigit():
                return None
            if national.startswith("0"):
                break
            return phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    try:
        return phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None


def key_of(e164: str) -> tuple[str, int]:
    """The cache key of a number: without its last digits, and its length."""
    return (e164[:-_TAIL] if len(e164) > _TAIL + 2 else e164, len(e164))


def zones_of(e164: str) -> tuple[str, ...]:
    """The possible zones of one E.164 number (cached by prefix)."""
    return zones_for_prefix(*key_of(e164))


def by_prefix(numbers: Iterable[str]) -> dict[tuple[str, int], int]:
    """How many numbers share each cache key."""
    return dict(Counter(key_of(n) for n in numbers))


def count_prefixes(keys: Iterable[tuple[tuple[str, int], int]]) -> dict[str, int]:
    """Numbers per zone from (key, how many) pairs; a number with several zones counts in
    each. Worker entry point: the keys are shared out between the pool's workers."""
    counts: Counter[str] = Counter()
    for (prefix, length), k in keys:
        for zone in zones_for_prefix(prefix, length):
            counts[zone] += k
    return dict(counts)


def count_numbers(numbers: Iterable[str]) -> dict[str, int]:
    """Numbers per zone, in this process (a few numbers, e.g. a list read from the dialer)."""
    return count_prefixes(by_prefix(numbers).items())


def body_prefixes(path: str) -> dict[tuple[str, int], int]:
    """The cache keys of a prepared request body (`{"name":…, "numbers":[{"number":…}]}`)
    and how many numbers share each. Worker entry point: it reads the file the dialer gets,
    so it counts exactly the numbers sent, after every other step of the upload."""
    with Path(path).open(encoding="utf-8") as f:
        body = json.load(f)
    entries = body.get("numbers", ()) if isinstance(body, dict) else ()
    return by_prefix(str(e["number"]) for e in entries if isinstance(e, dict) and e.get("number"))


async def count_zones(path: Path) -> dict[str, int]:
    """Numbers per zone of a prepared body, off the event loop: one worker reads the body
    and groups its numbers by key, then every worker of the pool looks up a share of the
    keys (phonenumbers' type check is the cost: ≈20 µs a key)."""
    from bot.numbers.pool import get_pool, pool_workers

    loop = asyncio.get_running_loop()
    pool = get_pool()
    keys = list((await loop.run_in_executor(pool, body_prefixes, str(path))).items())
    shares = max(1, min(pool_workers(), len(keys) // 1000 or 1))
    parts = await asyncio.gather(
        *(loop.run_in_executor(pool, count_prefixes, keys[i::shares]) for i in range(shares))
    )
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total)
