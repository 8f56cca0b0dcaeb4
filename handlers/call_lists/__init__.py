"""Call lists: `/dialer lists`, `/dialer list <id|name>` and the audited "Show numbers"
(numbers masked otherwise), and the upload modal: pasted or uploaded numbers, the summary,
Create/Cancel. Reading and normalising numbers is bot/numbers/; no SQL here, and the only
HTTP is downloading the uploaded file from Slack (upload.py)."""
