"""Block Kit for the do-not-call list: the summary, the answers to add, remove and check,
the import's progress and result, the export. Pure functions; numbers come in as E.164 and
are masked here unless ``full`` (the reader's role may see them)."""

from __future__ import annotations

from typing import Any

from bot.numbers import VISIBLE_DIGITS, Counts, Invalid, InvalidFile, mask_number
from handlers.blocks import context, esc, header, message, plural, section, slack_time
from handlers.call_lists.views import first_invalid, region_label

NUMBERS_SHOWN = 10
NOT_RETROACTIVE = (
    "Call lists already on the dialer are not changed: the bot cannot remove numbers from "
    "them, and it keeps no copy of the numbers it uploaded, so it cannot tell whether a "
    "running campaign's list holds these numbers. Pause such a campaign and fix its list "
    "on the dialer if it might. Every call list created from now on leaves them out."
)


def shown(number: str, full: bool) -> str:
    """A number as this reader may see it."""
    return esc(number if full else mask_number(number))


def _numbers(numbers: list[str], full: bool) -> str:
    listed = ", ".join(shown(n, full) for n in numbers[:NUMBERS_SHOWN])
    more = len(numbers) - NUMBERS_SHOWN
    return listed + (f" and {more:,} more" if more > 0 else "")


def _mask_note(full: bool) -> list[dict[str, Any]]:
    if full:
        return []
    return [context(f"Numbers are masked except the last {VISIBLE_DIGITS} digits for your role.")]


def invalid_numbers(bad: list[tuple[str, str]]) -> dict[str, Any]:
    """Typed numbers that are not phone numbers: nothing was changed."""
    lines = "\n".join(f"• `{esc(raw[:40])}`: {esc(reason)}" for raw, reason in bad[:20])
    text = f":warning: Nothing changed: {plural(len(bad), 'entry is', 'entries are')} not a number."
    tip = "Separate numbers with commas: `601 123 456, 602 000 111`."
    return message(text, [section(f"{text}\n{lines}"), context(tip)])


def changed(
    action: str,
    numbers: list[str],
    done: int,
    reason: str | None,
    region: str | None,
    full: bool,
) -> dict[str, Any]:
    """The answer to `dnc add` and `dnc remove`."""
    if action == "add":
        head = f":no_entry_sign: Added {plural(done, 'number')} to the do-not-call list"
        rest = len(numbers) - done
        tail = f" ({plural(rest, 'was', 'were')} already on it)" if rest else ""
    else:
        head = f":white_check_mark: Removed {plural(done, 'number')} from the do-not-call list"
        rest = len(numbers) - done
        tail = f" ({plural(rest, 'was', 'were')} not on it)" if rest else ""
    why = f" because {esc(reason)}" if reason else ""
    text = f"{head}{tail}{why}: {_numbers(numbers, full)}."
    blocks = [section(text)]
    if action == "add" and done:
        blocks.append(context(NOT_RETROACTIVE))
    blocks.append(
        context(f"National numbers are read as {esc(region_label(region))} (DEFAULT_REGION).")
    )
    return message(text, blocks + _mask_note(full))


def check_result(number: str, listing: Any | None, full: bool) -> dict[str, Any]:
    """`dnc check`: listed or not, since when, by whom, why, from which file."""
    if listing is None:
        text = f":white_circle: {shown(number, full)} is *not* on the do-not-call list."
        return message(text, [section(text), *_mask_note(full)])
    who = f"<@{listing.user_id}>" if listing.user_id else esc(listing.user_name or "someone")
    parts = [f"since {slack_time(listing.ts)}", f"added by {who}"]
    if listing.reason:
        parts.append(f"because {esc(listing.reason)}")
    if listing.source:
        parts.append(f"from {esc(listing.source)}")
    text = f":no_entry_sign: {shown(number, full)} is on the do-not-call list: " + ", ".join(parts)
    return message(text, [section(text), *_mask_note(full)])


def change_line(change: Any) -> str:
    who = f"<@{change.user_id}>" if change.user_id else esc(change.user_name or "someone")
    verb = "added" if change.action == "add" else "removed"
    line = f"{slack_time(change.ts)} {who} {verb} {plural(change.numbers, 'number')}"
    if change.reason:
        line += f" — {esc(change.reason)}"
    if change.source:
        line += f" (file {esc(change.source)})"
    return "• " + line


def status(count: int, recent: list[Any]) -> dict[str, Any]:
    """`/dialer dnc`: how many numbers are listed and the latest changes (no numbers)."""
    text = f"The do-not-call list holds {plural(count, 'number')}."
    blocks = [header("Do-not-call list"), section(text)]
    if recent:
        blocks.append(section("*Latest changes*\n" + "\n".join(change_line(c) for c in recent)))
    blocks.append(
        context(
            "`/dialer dnc add <number> … [because <reason>]` · `dnc check <number>` · "
            "`dnc upload` (a file) · `dnc remove <number>` and `dnc export` (admins). "
            "Call lists created through the bot leave these numbers out."
        )
    )
    return message(text, blocks)


def progress_message(reason: str, checked: int, fraction: float | None) -> dict[str, Any]:
    done = f" ({fraction:.0%} of the file)" if fraction is not None else ""
    text = (
        f":hourglass_flowing_sand: Adding numbers to the do-not-call list ({esc(reason)})… "
        f"{checked:,} read so far{done}."
    )
    return message(text, [section(text), context("This message updates every few seconds.")])


def bad_input(reason: str, problem: str) -> dict[str, Any]:
    return message(
        f":warning: Adding numbers to the do-not-call list ({esc(reason)}) stopped: {esc(problem)}"
    )


def imported(
    *,
    reason: str,
    source: str,
    counts: Counts,
    invalid: list[Invalid],
    shown_invalid: int,
    invalid_file: InvalidFile | None,
    region: str | None,
    user_id: str,
) -> dict[str, Any]:
    """The import's summary: what was added, what was there already, the invalid lines."""
    text = (
        f"Do-not-call list: {counts.valid:,} added, {counts.duplicates:,} already listed, "
        f"{counts.invalid:,} invalid of {counts.read:,} read"
    )
    blocks = [
        header("Do-not-call list: numbers added"),
        section(
            f"From *{esc(source)}*, because {esc(reason)} "
            f"(national numbers read as {esc(region_label(region))}).",
            fields=[
                f"*Read*\n{counts.read:,}",
                f"*Added*\n{counts.valid:,}",
                f"*Already listed or repeated*\n{counts.duplicates:,}",
                f"*Invalid*\n{counts.invalid:,}",
            ],
        ),
    ]
    if invalid:
        first = invalid[:shown_invalid]
        blocks.extend(first_invalid(first, counts.invalid, invalid_file, "; they were not added"))
    if counts.valid:
        blocks.append(context(NOT_RETROACTIVE))
    blocks.append(context(f"Added by <@{user_id}>; recorded in the audit log."))
    return message(text, blocks)


def export_comment(count: int) -> str:
    return (
        f":page_facing_up: The do-not-call list: {plural(count, 'number')} "
        "(number, added_at, added_by, added_by_name, reason, source). Personal data: "
        "keep it where your data-protection rules allow; this export is in the audit log."
    )


def export_failed(error: str) -> dict[str, Any]:
    hint = (
        " The app needs the `files:write` scope: an admin adds it (manifest.yml) and "
        "reinstalls the app."
        if error in ("missing_scope", "not_allowed_token_type")
        else ""
    )
    return message(f":warning: The export could not be uploaded (Slack said: {esc(error)}).{hint}")


def export_started() -> dict[str, Any]:
    return message(":hourglass_flowing_sand: Exporting the do-not-call list to your DM…")
