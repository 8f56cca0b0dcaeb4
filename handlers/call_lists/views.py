"""Block Kit for call lists: the upload modal, the progress and summary messages, results."""

from __future__ import annotations

import json
import time
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from bot.numbers import MAX_INVALID_FILE_BYTES, NO_REGION_REASON, Counts, Invalid, InvalidFile
from handlers.args import plural
from handlers.blocks import (
    Block,
    actions,
    button,
    context,
    esc,
    header,
    message,
    section,
    slack_time,
)

CALLBACK_ID = "call_list_form"
CREATE_ACTION = "call_list:create"
CANCEL_ACTION = "call_list:cancel"
PASTE_MAX_CHARS = 3000  # Slack's limit for a plain_text_input
INVALID_FILE_NAME = "invalid-numbers.csv"
SECTION_BUDGET = 2800

# Common regions first; a DEFAULT_REGION not listed here is added at the top.
REGIONS: tuple[tuple[str, str], ...] = (
    ("CZ", "Czechia"),
    ("SK", "Slovakia"),
    ("PL", "Poland"),
    ("DE", "Germany"),
    ("AT", "Austria"),
    ("HU", "Hungary"),
    ("GB", "United Kingdom"),
    ("IE", "Ireland"),
    ("FR", "France"),
    ("BE", "Belgium"),
    ("NL", "Netherlands"),
    ("LU", "Luxembourg"),
    ("CH", "Switzerland"),
    ("IT", "Italy"),
    ("ES", "Spain"),
    ("PT", "Portugal"),
    ("DK", "Denmark"),
    ("SE", "Sweden"),
    ("NO", "Norway"),
    ("FI", "Finland"),
    ("EE", "Estonia"),
    ("LV", "Latvia"),
    ("LT", "Lithuania"),
    ("SI", "Slovenia"),
    ("HR", "Croatia"),
    ("RO", "Romania"),
    ("BG", "Bulgaria"),
    ("GR", "Greece"),
    ("UA", "Ukraine"),
    ("TR", "Türkiye"),
    ("US", "United States"),
    ("CA", "Canada"),
    ("MX", "Mexico"),
    ("BR", "Brazil"),
    ("IN", "India"),
    ("AU", "Australia"),
    ("NZ", "New Zealand"),
    ("ZA", "South Africa"),
    ("AE", "United Arab Emirates"),
    ("IL", "Israel"),
)
_REGION_NAMES = dict(REGIONS)


def region_label(code: str | None) -> str:
    if not code:
        return "none (international numbers only)"
    return f"{_REGION_NAMES.get(code, code)} ({code})"


def _region_option(code: str) -> Option:
    return Option(value=code, text=PlainTextObject(text=region_label(code)[:75]))


def upload_modal(default_region: str | None, channel_id: str | None) -> dict[str, Any]:
    """The form; the origin channel rides in private_metadata for channel-scoped roles."""
    codes = [c for c, _ in REGIONS]
    if default_region and default_region not in _REGION_NAMES:
        codes.insert(0, default_region)
    options = [_region_option(c) for c in codes[:100]]
    initial = _region_option(default_region) if default_region else None
    blocks = [
        InputBlock(
            block_id="name",
            label="Call list name",
            element=PlainTextInputElement(
                action_id="value", max_length=255, placeholder="e.g. Brno outage, June"
            ),
        ),
        InputBlock(
            block_id="numbers",
            label="Numbers",
            optional=True,
            hint=(
                "One per line, or separated by commas or semicolons. Slack limits this box to "
                f"{PASTE_MAX_CHARS:,} characters (about 200 numbers): attach a CSV file for "
                "longer lists."
            ),
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                max_length=PASTE_MAX_CHARS,
                placeholder="+420 601 123 456\n601 123 457",
            ),
        ),
        InputBlock(
            block_id="file",
            label="…or a CSV file",
            optional=True,
            hint=(
                "A column named number, phone, phone_number, msisdn or tel (else the first "
                "column of numbers); other columns become the number's attributes. "
                "UTF-8, up to the size limit."
            ),
            element=FileInputElement(action_id="value", filetypes=["csv", "txt"], max_files=1),
        ),
        InputBlock(
            block_id="country",
            label="Country for national numbers",
            optional=True,
            hint="Numbers written without +<country code> are read as numbers of this country.",
            element=StaticSelectElement(
                action_id="value",
                placeholder="Choose a country",
                options=options,
                initial_option=initial,
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="New call list",
        submit="Check numbers",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"channel": channel_id}),
    )
    return view.to_dict()


def progress_message(name: str, checked: int, fraction: float | None) -> dict[str, Any]:
    done = f" ({fraction:.0%} of the file)" if fraction is not None else ""
    text = (
        f":hourglass_flowing_sand: Checking the numbers for call list *{esc(name)}*… "
        f"{checked:,} read so far{done}."
    )
    return message(
        text,
        [section(text), context("This message updates every few seconds. Nothing is sent yet.")],
    )


def bad_input(name: str, problem: str) -> dict[str, Any]:
    text = f":warning: Call list *{esc(name)}* was not created: {esc(problem)}"
    return message(text)


def _counts_fields(counts: Counts) -> list[str]:
    return [
        f"*Read*\n{counts.read:,}",
        f"*Valid*\n{counts.valid:,}",
        f"*Duplicates dropped*\n{counts.duplicates:,}",
        f"*Invalid*\n{counts.invalid:,}",
    ]


def invalid_sections(entries: list[Invalid]) -> list[Block]:
    """Line numbers with the entry and the reason, escaped, in code blocks that each stay
    under Slack's 3,000 characters per section."""
    blocks: list[Block] = []
    lines: list[str] = []
    size = 0
    for e in entries:
        line = esc(f"line {e.line}: {e.raw or '(empty)'} — {e.reason}").replace("`", "'")
        if lines and size + len(line) + 1 > SECTION_BUDGET:
            blocks.append(section("```" + "\n".join(lines) + "```"))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        blocks.append(section("```" + "\n".join(lines) + "```"))
    return blocks


def summary(
    *,
    name: str,
    counts: Counts,
    invalid: list[Invalid],
    shown: int,
    invalid_file: InvalidFile | None,
    token: str | None,
    region: str | None,
    columns: tuple[str, ...],
    user_id: str,
    ttl_min: int,
    same_name: list[int] | None = None,
) -> dict[str, Any]:
    """Counts, the first invalid entries (the rest are in a file in the thread), and
    Create/Cancel carrying the single-use token. ``same_name``: ids of lists already called
    so, a warning (two lists may share a name) rather than a refusal."""
    blocks = [
        header(f"Call list: {name}"),
        section(
            f"Checked the numbers for *{esc(name)}* "
            f"(national numbers read as {esc(region_label(region))}).",
            fields=_counts_fields(counts),
        ),
    ]
    if same_name:
        ids = ", ".join(f"#{i}" for i in same_name[:5])
        blocks.append(
            section(
                f":warning: A call list named *{esc(name)}* already exists ({ids}). Create "
                "makes another one with the same name; Cancel and upload again to rename it."
            )
        )
    if columns:
        blocks.append(context("Attributes from the columns: " + esc(", ".join(columns))))
    if invalid:
        first = invalid[:shown]
        blocks.append(
            section(
                f"*First {plural(len(first), 'invalid entry', 'invalid entries')}* "
                "(line: entry — reason)"
            )
        )
        blocks.extend(invalid_sections(first))
        if counts.invalid > len(first):
            blocks.append(context(_more_invalid(counts.invalid, len(first), invalid_file)))
        if any(e.reason == NO_REGION_REASON for e in first):
            blocks.append(
                context(
                    "Tip: choose the country in the form, or write the numbers with "
                    "+&lt;country code&gt;."
                )
            )
    if token and counts.valid:
        blocks.append(
            actions(
                button(
                    f"Create list of {plural(counts.valid, 'number')}",
                    CREATE_ACTION,
                    token,
                    style="primary",
                ),
                button("Cancel", CANCEL_ACTION, token),
                block_id="call_list:confirm",
            )
        )
        blocks.append(
            context(f"Asked by <@{user_id}> · valid for {ttl_min} min · creates the list once")
        )
    elif not counts.valid:
        blocks.append(section(":warning: No valid numbers: nothing to create."))
    text = (
        f"Call list {name}: {counts.valid:,} valid, {plural(counts.duplicates, 'duplicate')}, "
        f"{counts.invalid:,} invalid of {counts.read:,} read"
    )
    return message(text, blocks)


def _cut_note(file: InvalidFile, total: int) -> str:
    return (
        f"the first {file.rows:,} of {total:,} (the file stops at "
        f"{MAX_INVALID_FILE_BYTES // (1024 * 1024)} MB)"
    )


def _more_invalid(total: int, shown: int, file: InvalidFile | None) -> str:
    """Where the invalid entries after the first `shown` are: the file in the thread."""
    listed = _cut_note(file, total) if file is not None and file.cut else f"all {total:,}"
    return (
        f"{total - shown:,} more invalid entries: {listed} are in the file "
        f"{INVALID_FILE_NAME} (line, entry, reason) in this message's thread."
    )


def invalid_file_title(name: str) -> str:
    return f"Invalid entries: {name}"[:255]


def invalid_file_comment(name: str, file: InvalidFile, total: int) -> str:
    """The text Slack shows with the uploaded file (mrkdwn: the name is escaped)."""
    listed = _cut_note(file, total) if file.cut else f"all {total:,}"
    return f":clipboard: Invalid entries of call list *{esc(name)}*: {listed}."


def invalid_file_failed(total: int, shown: int, error: str) -> dict[str, Any]:
    """The one message when the file cannot be uploaded; the summary stays usable."""
    hint = (
        " The app needs the `files:write` scope: an admin adds it (manifest.yml) and "
        "reinstalls the app."
        if error in ("missing_scope", "not_allowed_token_type")
        else ""
    )
    text = (
        f":warning: The file of all {plural(total, 'invalid entry', 'invalid entries')} "
        "could not be uploaded "
        f"(Slack said: {esc(error)}).{hint} The first {shown:,} are in the message above; "
        "the list can still be created from it."
    )
    return message(text)


def created(name: str, list_id: int, count: int, said: str | None, user_id: str) -> dict[str, Any]:
    said_text = f" The dialer said: {esc(said)}." if said else ""
    text = (
        f":white_check_mark: <@{user_id}> created call list *{esc(name)}* (#{list_id}) "
        f"with {plural(count, 'number')}.{said_text}"
    )
    return message(text)


def create_unknown(name: str, detail: str) -> dict[str, Any]:
    return message(
        f":grey_question: The dialer did not answer in time, so it is not known whether call "
        f"list *{esc(name)}* was created ({esc(detail)}). Check `/dialer lists` before "
        "uploading again; the audit log records this as unknown."
    )


def cancelled(name: str | None, user_id: str) -> dict[str, Any]:
    what = f"Call list *{esc(name)}*" if name else "The call list"
    return message(f":no_entry_sign: {what} cancelled by <@{user_id}>. Nothing was sent.")


def not_usable(state: str, by_user: str | None, at: str | None) -> dict[str, Any]:
    if state == "used":
        return message(
            f":information_source: Already done by <@{by_user}> ({esc(at or '')}). "
            "Nothing was sent again."
        )
    if state == "cancelled":
        return message(":information_source: This call list was cancelled. Nothing was sent.")
    if state == "expired":
        return message(
            ":hourglass: This confirmation expired. Run `/dialer upload` again if the list "
            "is still needed."
        )
    return message(":information_source: This confirmation is not valid (anymore).")


def notification(
    name: str, list_id: int, count: int, user_id: str, origin: str | None
) -> dict[str, Any]:
    text = (
        f"<@{user_id}> created call list *{esc(name)}* (#{list_id}) with {plural(count, 'number')}"
    )
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    where = f" · from <#{origin}>" if origin else ""
    return message(text, [section(text), context(f"{slack_time(now)}{where}")])
