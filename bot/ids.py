"""Whole numbers from untrusted text: slash-command words, button values, form fields."""

from __future__ import annotations

MAX_ID = 10**12 - 1


def positive_int(raw: object, *, max_value: int = MAX_ID) -> int | None:
    """The number, or None. ASCII digits only: str.isdigit() accepts '²', which int() refuses."""
    text = str(raw).strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(max_value)):
        return None
    value = int(text)
    return value if 0 < value <= max_value else None
