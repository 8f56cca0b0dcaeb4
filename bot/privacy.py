"""Phone numbers are personal data: the one rule for showing them masked."""

from __future__ import annotations

MASK = "•"
VISIBLE_DIGITS = 3


def mask_number(number: str, visible: int = VISIBLE_DIGITS) -> str:
    """Every digit but the last ``visible`` replaced: ``+420601000001`` → ``+•••••••••001``.

    Other characters (``+``, spaces, dashes) stay, so the shape still reads as a number.
    """
    digits = sum(ch.isdigit() for ch in number)
    hide = max(0, digits - visible)
    out: list[str] = []
    for ch in number:
        if ch.isdigit() and hide > 0:
            out.append(MASK)
            hide -= 1
        elif ch.isdigit() or not ch.isalnum():
            out.append(ch)
        else:  # letters in a "number" could be anything: hide them too
            out.append(MASK)
    return "".join(out)
