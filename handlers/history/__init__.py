"""`/dialer history`: the audit log as people read it. Views only; entries come from the
store through the request's services."""
