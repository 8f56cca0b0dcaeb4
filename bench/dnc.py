"""Benchmark: the do-not-call list at scale, and print each figure against its goal.

    python bench/dnc.py [--count 10000000] [--list 1000000]

1. Import a do-not-call file of --count numbers the way the form's do-not-call mode does
   (bot/numbers in the process pool, batches added by store.dnc.add in a worker thread),
   while a probe measures how late the event loop runs and how long a store read waits
   (what an ack that reads the store would wait). Goal: < 60 s, peak RSS < 400 MB,
   acks < 3 s.
2. Prepare a --list number call list with and without the do-not-call screen, with the
   list above in place. Goal: the screen adds < 10 s.
3. `dnc check`: one lookup among --count numbers. Goal: < 10 ms.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.abspath(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:] = [ROOT] + [
    p for p in sys.path if os.path.abspath(p or ".") != os.path.join(ROOT, "bench")
]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import bot.numbers as numbers  # noqa: E402
from bench.harness import rss_mb, worker_peak_mb  # noqa: E402
from store import Store  # noqa: E402

# Valid Czech mobile prefixes: 48 × 1,000,000 numbers to draw from.
PREFIXES = [
    "601",
    "602",
    "603",
    "604",
    "605",
    "606",
    "607",
    "608",
    "702",
    "703",
    "704",
    "705",
    "720",
    "721",
    "722",
    "723",
    "724",
    "725",
    "726",
    "727",
    "728",
    "729",
    "730",
    "731",
    "732",
    "733",
    "734",
    "735",
    "736",
    "737",
    "738",
    "739",
    "770",
    "771",
    "772",
    "773",
    "774",
    "775",
    "776",
    "777",
    "778",
    "779",
    "790",
    "791",
    "792",
    "793",
    "797",
    "799",
]


def mobile(i: int) -> str:
    """The i-th of 48,000,000 distinct Czech mobiles (9 digits), in a scattered order."""
    return PREFIXES[i % len(PREFIXES)] + f"{(i // len(PREFIXES)) * 480_019 % 10**6:06d}"


def cpu_s() -> float:
    """CPU seconds of this process and of the pool workers so far: on a busy machine the
    elapsed time says more about the neighbours than about the bot."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    pool = numbers.current_pool()
    tick = os.sysconf("SC_CLK_TCK")
    for pid in list(getattr(pool, "_processes", None) or {}):
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists():
            fields = stat.read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def make_dnc_file(path: Path, count: int) -> None:
    """A register export: distinct E.164 numbers, one per line under a header, with 0.1 %
    invalid lines and 1 % repeats of an earlier line."""
    rnd = random.Random(7)
    with path.open("w", encoding="utf-8") as f:
        f.write("number\n")
        lines = []
        for i in range(count):
            if i % 1000 == 999:
                lines.append(f"12{i % 97}")
            elif i % 100 == 50:
                lines.append("+420" + mobile(rnd.randrange(i)))
            else:
                lines.append("+420" + mobile(i))
            if len(lines) == 100_000:
                f.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            f.write("\n".join(lines) + "\n")


def make_call_list(path: Path, count: int) -> None:
    """A call list in mixed formats (national, +420 with spaces, 00420), one attribute,
    drawn from the same 48,000,000 numbers (so about a fifth are on a 10,000,000 list)."""
    rnd = random.Random(11)
    formats = ("+420 {0} {1} {2}", "{0}{1}{2}", "00420{0}{1}{2}", "{0} {1} {2}")
    with path.open("w", encoding="utf-8") as f:
        f.write("phone,customer\n")
        for i in range(count):
            n = mobile(rnd.randrange(48_000_000))
            f.write(formats[i % 4].format(n[:3], n[3:6], n[6:]) + f",customer {i}\n")


class Probe:
    """How late the loop wakes up (every 50 ms) and how long a store read takes, while
    the import runs: an ack needs the loop, and some acks read the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.loop_late: list[float] = []
        self.store_wait: list[float] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        rnd = random.Random(3)
        while not self._stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.05)
            self.loop_late.append(time.perf_counter() - t - 0.05)
            t = time.perf_counter()
            key = int("420" + mobile(rnd.randrange(48_000_000)))
            await self.store.run(self.store.dnc.check, key)
            self.store_wait.append(time.perf_counter() - t)

    def stop(self) -> None:
        self._stop.set()


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


async def main(count: int, list_count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        src = directory / "dnc.csv"
        t = time.perf_counter()
        make_dnc_file(src, count)
        print(
            f"do-not-call file: {count:,} lines, {src.stat().st_size / 2**20:.0f} MB "
            f"(made in {time.perf_counter() - t:.0f} s); workers: {numbers.pool_workers()}, "
            f"cores: {os.cpu_count()}"
        )
        store = Store(directory / "bot.db")
        change = store.dnc.begin(
            "add",
            user_id="UBENCH",
            user_name="bench",
            reason="bench",
            source="dnc.csv",
            audit_id=None,
        )

        writer = store.dnc.importer(change)  # as handlers/dnc/importer.py does

        def store_keys(keys: object) -> int:
            return writer.add(keys)  # type: ignore[arg-type]

        probe = Probe(store)
        probing = asyncio.create_task(probe.run())
        cpu0 = cpu_s()
        t = time.perf_counter()
        prepared = await numbers.prepare_file(
            src, name="bench", region="CZ", directory=directory, store_keys=store_keys
        )
        elapsed = time.perf_counter() - t
        cpu = cpu_s() - cpu0
        writer.close()
        probe.stop()
        await probing
        c = prepared.counts
        parent, worker = rss_mb(), worker_peak_mb()
        late, wait = max(probe.loop_late), max(probe.store_wait)
        print(
            f"\n1. import: read {c.read:,}, added {c.valid:,}, repeats {c.duplicates:,}, "
            f"invalid {c.invalid:,}"
        )
        print(f"   time        {elapsed:6.1f} s    goal < 60 s     {verdict(elapsed < 60)}")
        print(
            f"   CPU         {cpu:6.1f} s    (bot + workers; on 2 idle cores at best "
            f"{cpu / 2:.1f} s elapsed; load average now {os.getloadavg()[0]:.1f})"
        )
        print(
            f"   peak RSS    {parent:6.0f} MB   goal < 400 MB   {verdict(parent < 400)} "
            f"(bot process; largest pool worker {worker:.0f} MB)"
        )
        print(
            f"   loop late   {late * 1000:6.0f} ms   store read waited {wait * 1000:.0f} ms "
            f"(max of {len(probe.loop_late)} probes)   goal ack < 3 s   "
            f"{verdict(late + wait < 3)}"
        )
        listed = store.dnc.count()
        print(f"   listed      {listed:,} numbers; database {store_size(directory):.0f} MB")

        call_list = directory / "list.csv"
        make_call_list(call_list, list_count)
        t = time.perf_counter()
        plain = await numbers.prepare_file(call_list, name="l", region="CZ", directory=directory)
        without = time.perf_counter() - t
        in_screen = 0.0

        def screen(keys: list[int]) -> set[int]:
            nonlocal in_screen
            t = time.perf_counter()
            try:
                return store.dnc.listed(keys)
            finally:
                in_screen += time.perf_counter() - t

        t = time.perf_counter()
        screened = await numbers.prepare_file(
            call_list, name="l", region="CZ", directory=directory, screen=screen
        )
        with_screen = time.perf_counter() - t
        # The screen runs in the merge step, one call per block, while the workers go on
        # with the next blocks: it adds at most its own time to the upload. The difference
        # of two elapsed times is shown too, but on a shared machine it is mostly noise.
        added = in_screen
        print(
            f"\n2. call list of {list_count:,}: {without:.1f} s without the screen, "
            f"{with_screen:.1f} s with it ({screened.counts.excluded:,} left out, "
            f"{screened.counts.valid:,} kept of {plain.counts.valid:,})"
        )
        print(
            f"   in screen   {added:6.1f} s    goal < 10 s     {verdict(added < 10)} "
            f"(difference of the two runs: {with_screen - without:+.1f} s)"
        )

        rnd = random.Random(5)
        keys = [int("420" + mobile(rnd.randrange(48_000_000))) for _ in range(10_000)]
        times = []
        for key in keys:
            t = time.perf_counter()
            store.dnc.check(key)
            times.append(time.perf_counter() - t)
        ordered = sorted(times)
        p99 = ordered[int(len(ordered) * 0.99)]
        t = time.perf_counter()
        for key in keys[:1000]:
            await store.run(store.dnc.check, key)
        through = (time.perf_counter() - t) / 1000
        print(
            f"\n3. dnc check among {listed:,}: mean {statistics.mean(times) * 1e3:.3f} ms, "
            f"p99 {p99 * 1e3:.3f} ms, max {max(times) * 1e3:.3f} ms; through the store "
            f"thread {through * 1e3:.3f} ms"
        )
        print(f"   p99         {p99 * 1e3:6.3f} ms   goal < 10 ms    {verdict(p99 < 0.010)}")
        numbers.shutdown_pool()
        store.close()


def store_size(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.glob("bot.db*")) / 2**20


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000_000)
    parser.add_argument("--list", type=int, default=1_000_000, dest="list_count")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.list_count))
