"""The call-list modal: pasted or uploaded numbers, the summary, Create/Cancel. Reading and
normalising numbers is bot/numbers/; no HTTP or SQL here."""
