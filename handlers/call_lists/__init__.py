"""`/dialer lists` and `/dialer list <id|name>`: call lists, what is in them and which
campaigns use them. Numbers are masked; "Show numbers" (operator) is audited."""
