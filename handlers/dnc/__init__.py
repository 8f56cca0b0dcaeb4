"""The do-not-call list: `/dialer dnc` and its verbs, and the import through the call-list form."""
