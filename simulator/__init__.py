"""The world outside the bot, simulated for development, the demo and the tests: the Voipex
iPBX dialer API (server.py and its modules), a Slack Web API stand-in (slack_standin.py) and
the console demo (demo/). The runtime (bot/, handlers/, store/) never imports this package,
except bot/cli.py, lazily, for `dialer-bot demo` and `dialer-bot simulator`.
"""

from simulator.server import RunningSimulator, SimulatorConfig, main, start_simulator

__all__ = ["RunningSimulator", "SimulatorConfig", "main", "start_simulator"]
