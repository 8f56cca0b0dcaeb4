"""`dialer-bot demo`: the bot in a terminal, with Slack (simulator/slack_standin.py) and the
dialer (simulator/server.py) simulated in-process. Only `dialer-bot demo` and the tests import
this package; the bot itself never does.
"""
