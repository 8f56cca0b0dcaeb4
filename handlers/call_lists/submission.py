"""The call-list modal's submission, read and checked (every level type-checked: a payload is
data from outside), and the settings-derived places and limits the flow shares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers

from bot.config import Settings
from handlers.call_list import views

ACTION = "create_call_list"  # audit and claim action
ROLE_ACTION = "upload"  # bot/access.py
CONFIRM_TTL_S = 30 * 60
SWEEP_AGE_S = 2 * 60 * 60  # leftovers older than any live confirmation
PROGRESS_EVERY_S = 3.0
DOWNLOAD_TIMEOUT_S = 60.0
UPLOAD_TIMEOUT_S = 120  # the invalid-entries file may be up to 20 MB
NAME_MAX = 255


def upload_dir(settings: Settings) -> Path:
    """Prepared request bodies live next to the database, like the bot's other state."""
    return Path(settings.database_path).resolve().parent / "call-list-uploads"


def upload_limit(settings: Settings) -> int:
    return settings.max_upload_mb * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    name: str
    text: str | None
    file_id: str | None
    region: str | None
    channel_id: str | None


def parse_submission(
    view: dict[str, Any], default_region: str | None
) -> Submission | dict[str, str]:
    """The form's values, or {block_id: message} for the inline errors. Every level is
    type-checked: a payload is data from outside, whatever shape Slack usually sends."""
    values = as_dict(as_dict(view.get("state")).get("values"))

    def field(block: str) -> dict[str, Any]:
        return as_dict(as_dict(values.get(block)).get("value"))

    errors: dict[str, str] = {}
    name = as_str(field("name").get("value")).strip()
    if not name:
        errors["name"] = "Give the call list a name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"At most {NAME_MAX} characters."
    text = as_str(field("numbers").get("value"))
    files = field("file").get("files")
    first = files[0] if isinstance(files, list) and files else None
    file_id = as_str(as_dict(first).get("id"))[:64]
    if not text.strip() and not file_id:
        errors["numbers"] = "Paste numbers here or attach a CSV file below."
    elif text.strip() and file_id:
        errors["numbers"] = "Paste numbers or attach a file, not both."
    elif len(text) > views.PASTE_MAX_CHARS:  # Slack enforces it; a forged submission need not
        errors["numbers"] = (
            f"At most {views.PASTE_MAX_CHARS:,} characters can be pasted "
            f"(this is {len(text):,}); attach a CSV file for longer lists."
        )
    region = as_str(as_dict(field("country").get("selected_option")).get("value")) or default_region
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = "Choose a country from the list."
    if errors:
        return errors
    try:
        meta = json.loads(as_str(view.get("private_metadata")) or "{}")
    except ValueError:
        meta = {}
    channel = as_dict(meta).get("channel")
    return Submission(
        name=name,
        text=text if text.strip() else None,
        file_id=file_id or None,
        region=region,
        channel_id=channel if isinstance(channel, str) and channel.isalnum() else None,
    )


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""
