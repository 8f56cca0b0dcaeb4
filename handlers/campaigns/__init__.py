"""`/dialer campaigns` and `/dialer campaign <id>`: listings, the detail view and their
paging buttons. Views build Block Kit only: no store, no httpx."""
