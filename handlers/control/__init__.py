"""Campaign control on the Slack side: the buttons, the confirmation, the result and its
notification, the notice of outcomes a crash left unknown, and the emergency stop (pause
all or many: emergency.py). The one control flow itself is bot/control.py; the batch is
bot/pause_all.py."""
