"""`/dialer access`: grants and revokes of roles, and their views. No SQL here: grants go
through the store's API, roles through bot/access.py."""
