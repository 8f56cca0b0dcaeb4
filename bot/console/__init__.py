"""The demo console (`dialer-bot demo`) and the Slack stand-in that the demo and the tests
share. Only the demo and the tests import this package; the bot itself never does.
"""
