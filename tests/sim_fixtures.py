"""Fixtures that run the dialer simulator for real on a free port.

conftest.py imports `simulator` and `dialect_sim` for every test module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from simulator.server import RunningSimulator, SimulatorConfig, start_simulator

SIM_USERNAME = "demo@example.com"
SIM_PASSWORD = "demo"


class FakeClock:
    """A clock tests move by hand, so token expiry needs no sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest_asyncio.fixture
async def simulator() -> AsyncIterator[RunningSimulator]:
    """A seeded simulator on 127.0.0.1 with a free port; stopped after the test."""
    sim = await start_simulator(
        SimulatorConfig(port=0, username=SIM_USERNAME, password=SIM_PASSWORD, seed=True)
    )
    try:
        yield sim
    finally:
        await sim.stop()


@pytest_asyncio.fixture(params=["guide", "v2"])
async def dialect_sim(request: Any) -> AsyncIterator[RunningSimulator]:
    """The simulator in each of its dialects (the dialer guide's reading, and v2): a test
    using it runs once per dialect. Seeded like ``simulator``."""
    sim = await start_simulator(
        SimulatorConfig(port=0, username=SIM_USERNAME, password=SIM_PASSWORD, dialect=request.param)
    )
    try:
        yield sim
    finally:
        await sim.stop()


@pytest_asyncio.fixture
async def make_simulator() -> AsyncIterator[Callable[..., Awaitable[RunningSimulator]]]:
    """Factory for simulators with custom settings (e.g. a FakeClock); all stopped afterwards."""
    started: list[RunningSimulator] = []

    async def factory(**overrides: Any) -> RunningSimulator:
        settings: dict[str, Any] = {
            "port": 0,
            "username": SIM_USERNAME,
            "password": SIM_PASSWORD,
        }
        settings.update(overrides)
        sim = await start_simulator(SimulatorConfig(**settings))
        started.append(sim)
        return sim

    try:
        yield factory
    finally:
        for sim in started:
            await sim.stop()
