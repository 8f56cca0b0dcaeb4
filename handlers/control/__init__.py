"""Campaign control on the Slack side: the buttons, the confirmation, the result and its
notification. The one control flow itself is bot/control.py."""
