"""The emergency stop on the Slack side: `/dialer pause all`, `pause 3 5 9`, the global
shortcut and the App Home button. The batch itself is bot/pause_all.py."""
