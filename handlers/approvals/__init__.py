"""The two-person rule on the Slack side: approval requests, Approve/Reject/Cancel buttons
and their messages. The rule itself lives in bot/approvals.py."""
