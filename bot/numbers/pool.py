"""The one process pool that normalises numbers, shared by every upload of this process."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

_pool: ProcessPoolExecutor | None = None


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
            max_workers=pool_workers(), mp_context=multiprocessing.get_context(method)
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
