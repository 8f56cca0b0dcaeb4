"""The campaign modal (`/dialer new`, `/dialer edit`): listeners, the view, and the fields
that turn form values into the guide's payload. No HTTP or SQL here."""
