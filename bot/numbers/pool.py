"""The one process pool that normalises numbers, shared by every upload of this process."""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor

_pool: ProcessPoolExecutor | None = None


def ignore_sigint() -> None:
    """Worker initializer: Ctrl-C in a terminal goes to the whole process group, workers
    included; the parent decides what an interrupt means (it shuts the pool down), so a
    worker must not die of it with a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def pool_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def get_pool() -> ProcessPoolExecutor:
    """One pool per process, created on first use. forkserver (or spawn) rather than fork:
    forking a process that runs an event loop and threads can copy held locks."""
    global _pool
    if _pool is None:
        methods = multiprocessing.get_all_start_methods()
        method = "forkserver" if "forkserver" in methods else "spawn"
        _pool = ProcessPoolExecutor(
            max_workers=pool_workers(),
            mp_context=multiprocessing.get_context(method),
            initializer=ignore_sigint,
        )
    return _pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def current_pool() -> ProcessPoolExecutor | None:
    """The pool if one was started (benchmarks read its workers' memory)."""
    return _pool
