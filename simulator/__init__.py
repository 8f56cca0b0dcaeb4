"""In-memory simulator of the Voipex iPBX dialer API, for development and tests."""

from simulator.server import RunningSimulator, SimulatorConfig, main, start_simulator

__all__ = ["RunningSimulator", "SimulatorConfig", "main", "start_simulator"]
