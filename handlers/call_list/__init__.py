"""The call-list modal: pasted or uploaded numbers, the summary, Create/Cancel. Reading and
normalising numbers is bot/numbers/; no SQL here, and the only HTTP is downloading the
uploaded file from Slack (job.py)."""
