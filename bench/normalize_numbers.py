"""Benchmark: prepare a 1,000,000-number CSV the way the bot does, and print the figures.

    python bench/normalize_numbers.py [--count 1000000] [--post]

Prints numbers/s for reading + normalizing + deduplicating (process pool), the peak RSS of
the bot process and of the pool workers, the request body size, and with --post the time
to POST the list to a dialer simulator started in a separate process (so its memory does
not count as the bot's).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import sys
import tempfile
import time
from pathlib import Path

import bot.numbers as numbers
from bench.harness import rss_mb, worker_peak_mb
from bot.dialer import DialerClient, JsonFile


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_csv(path: Path, count: int) -> None:
    """Czech mobile numbers in mixed formats, one attribute column, ~1% invalid, some dups."""
    rnd = random.Random(42)
    formats = ("+420 {0} {1} {2}", "{0}{1}{2}", "00420{0}{1}{2}", "{0} {1} {2}")
    with path.open("w", encoding="utf-8") as f:
        f.write("phone,customer\n")
        for i in range(count):
            if i % 100 == 99:
                f.write(f"12{i % 1000},bad {i}\n")
                continue
            n = f"{rnd.choice('1234578')}{rnd.randrange(10**5):05d}"
            fmt = formats[i % len(formats)]
            f.write(fmt.format("60" + n[0], n[1:4], n[4:6] + str(i % 10)) + f",customer {i}\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def post(body_path: Path, size: int) -> None:
    port = free_port()
    sim = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bot", "simulator", "--port", str(port), "--no-seed"],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):  # a child starting up cannot be awaited on: probe its port
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
            else:
                writer.close()
                break
        async with DialerClient(
            url, url + "/token", username="demo@example.com", password="demo", timeout=300
        ) as dialer:
            started = time.perf_counter()
            result = await dialer.create_call_list_json(JsonFile(body_path, size))
            elapsed = time.perf_counter() - started
        print(
            f"POST /dialer/call-lists: {result.numbers_count:,} numbers in {elapsed:.1f} s "
            f"(list #{result.id}: {result.message})"
        )
    finally:
        sim.terminate()
        await sim.wait()


async def main(count: int, do_post: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        src = directory / "numbers.csv"
        make_csv(src, count)
        size = src.stat().st_size
        base = current_rss_mb()
        print(f"input: {count:,} lines, {size / 2**20:.1f} MB; bot RSS before {base:.0f} MB")
        print(f"workers: {numbers.pool_workers()} (cpu_count)")
        updates = 0

        async def progress(checked: int, fraction: float | None) -> None:
            nonlocal updates
            updates += 1

        started = time.perf_counter()
        prepared = await numbers.prepare_file(
            src, name="bench", region="CZ", directory=directory, progress=progress
        )
        elapsed = time.perf_counter() - started
        c = prepared.counts
        print(
            f"read {c.read:,}  valid {c.valid:,}  duplicates {c.duplicates:,}  "
            f"invalid {c.invalid:,}  ({updates} progress updates)"
        )
        print(f"elapsed {elapsed:.1f} s → {c.read / elapsed:,.0f} numbers/s (incl. pool start)")
        print(f"request body: {prepared.body_bytes / 2**20:.1f} MB")
        print(f"bot process peak RSS: {rss_mb():.0f} MB")
        print(f"pool worker peak RSS (largest): {worker_peak_mb():.0f} MB")
        numbers.shutdown_pool()
        if do_post:
            await post(prepared.body_path, prepared.body_bytes)
            print(f"bot process peak RSS after POST: {rss_mb():.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--post", action="store_true", help="also POST to a simulator")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.post))
