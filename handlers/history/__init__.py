"""`/dialer history`: the audit log as people read it. The listener reads entries through the
store's API; the views only format them (no store, no SQL)."""
