"""The campaign modal (`/dialer new`, `/dialer edit`): listeners, saving, the views, and the
fields that turn form values into the guide's payload. No raw HTTP or SQL here: the dialer
client and the audit writer do that."""
