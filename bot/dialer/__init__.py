"""The one client of the Voipex dialer API: HTTP, auth, typed results, and the table of
what is assumed about the real API (api.py). No Slack, no SQL and no Block Kit here.
"""

from bot.dialer.api import (
    ALLOWED_COMMANDS,
    COMMANDS,
    PATHS,
    RUNNING_STATES,
    STATE_SYNONYMS,
    STATES,
    allowed_for,
    canonical_state,
    validate_paths,
)
from bot.dialer.client import DialerClient, JsonFile, Listing
from bot.dialer.models import (
    CallList,
    CallListEntry,
    Campaign,
    ControlResult,
    CreateResult,
    DialerError,
    Endpoint,
    IvrApp,
    RescheduleRule,
    Routing,
)

__all__ = [
    "ALLOWED_COMMANDS",
    "COMMANDS",
    "PATHS",
    "RUNNING_STATES",
    "STATES",
    "STATE_SYNONYMS",
    "CallList",
    "CallListEntry",
    "Campaign",
    "ControlResult",
    "CreateResult",
    "DialerClient",
    "DialerError",
    "Endpoint",
    "IvrApp",
    "JsonFile",
    "Listing",
    "RescheduleRule",
    "Routing",
    "allowed_for",
    "canonical_state",
    "validate_paths",
]
