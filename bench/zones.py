"""Benchmark: the zone counts of a 1,000,000-number call list, as the upload counts them.

    python bench/zones.py [--count 1000000]

Writes a request body like the upload's (E.164 numbers, deduplicated) with a spread of
numbers that is hard on the prefix cache: US numbers over every area code phonenumbers
knows and random exchanges, Czech mobiles and landlines, UK numbers. Then times the
upload's zone-counting step (bot/numbers/zones.py count_zones: one process-pool worker
reads the body and counts numbers per zone) from a cold cache, and prints the figure
against the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

from bot.numbers.pool import shutdown_pool
from bot.numbers.zones import count_zones

GOAL_S = 15.0


def us_area_codes() -> list[str]:
    """Every US/Canada area code with a known zone (phonenumbers' own data, read once)."""
    import phonenumbers
    from phonenumbers import timezone

    codes = []
    for npa in range(200, 1000):
        number = phonenumbers.parse(f"+1{npa}5550100")
        if timezone.time_zones_for_number(number) != ("Etc/Unknown",):
            codes.append(str(npa))
    return codes


def make_body(path: Path, count: int) -> None:
    rnd = random.Random(7)
    npas = us_area_codes()
    seen: set[str] = set()
    while len(seen) < count:
        pick = rnd.random()
        if pick < 0.6:
            n = f"+1{rnd.choice(npas)}{rnd.randrange(200, 1000)}{rnd.randrange(10_000):04d}"
        elif pick < 0.9:
            n = f"+420{rnd.choice('2345677')}{rnd.randrange(10**8):08d}"
        else:
            n = f"+447{rnd.randrange(10**9):09d}"
        seen.add(n)
    body = {"name": "bench", "numbers": [{"number": n, "attributes": []} for n in seen]}
    path.write_text(json.dumps(body))


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        body = Path(tmp) / "body.json"
        t0 = time.perf_counter()
        make_body(body, count)
        print(
            f"body of {count:,} numbers written in {time.perf_counter() - t0:.1f} s "
            f"({body.stat().st_size / 1e6:.0f} MB)"
        )
        try:
            t0 = time.perf_counter()
            counts = await count_zones(body)
            took = time.perf_counter() - t0
        finally:
            shutdown_pool()
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
    print("largest zones: " + ", ".join(f"{z} {n:,}" for z, n in top))
    print(f"{len(counts)} zones; a number with several zones counts in each")
    verdict = "OK" if took < GOAL_S else "SLOWER THAN THE GOAL"
    print(f"zone counts of {count:,} numbers: {took:.1f} s (goal < {GOAL_S:.0f} s): {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args().count))
