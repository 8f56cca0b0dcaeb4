"""Scheduled commands on the Slack side: the grammar, the confirmation, the list."""
