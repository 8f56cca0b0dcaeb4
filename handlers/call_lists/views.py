"""Block Kit for call lists: the upload modal, the progress and summary messages, results;
the filtered listing and one list's detail. Pure functions."""

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

from bot.dialer import CallList, CallListEntry, Campaign
from bot.find import Filter
from bot.numbers import (
    MAX_INVALID_FILE_BYTES,
    NO_REGION_REASON,
    VISIBLE_DIGITS,
    Counts,
    Invalid,
    InvalidFile,
    mask_number,
)
from handlers.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    esc,
    header,
    message,
    plural,
    section,
    slack_time,
    state_label,
)
from handlers.campaigns.views import listing

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


DNC_FORM = "dnc"  # the form's mode for do-not-call numbers (upload.DNC_MODE)


def upload_modal(
    default_region: str | None, channel_id: str | None, mode: str = "call_list"
) -> dict[str, Any]:
    """The form; the origin channel and the mode ride in private_metadata (for
    channel-scoped roles; and a call list, or numbers for the do-not-call list)."""
    dnc = mode == DNC_FORM
    codes = [c for c, _ in REGIONS]
    if default_region and default_region not in _REGION_NAMES:
        codes.insert(0, default_region)
    options = [_region_option(c) for c in codes[:100]]
    initial = _region_option(default_region) if default_region else None
    blocks = [
        InputBlock(
            block_id="name",
            label="Reason (kept with every number)" if dnc else "Call list name",
            element=PlainTextInputElement(
                action_id="value",
                max_length=255,
                placeholder=(
                    "e.g. national do-not-call register, June" if dnc else "e.g. Brno outage, June"
                ),
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
                "column of numbers); "
                + (
                    "other columns are ignored. "
                    if dnc
                    else "other columns become the number's attributes. "
                )
                + "UTF-8, up to the size limit."
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
        title="Do-not-call numbers" if dnc else "New call list",
        submit="Add to the list" if dnc else "Check numbers",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(
            {"channel": channel_id, "mode": mode} if dnc else {"channel": channel_id}
        ),
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


def first_invalid(
    first: list[Invalid], total: int, file: InvalidFile | None, note: str = ""
) -> list[Block]:
    """The first invalid entries of a summary, and where the rest are (``note`` ends the
    heading, e.g. "; they were not added")."""
    heading = f"*First {plural(len(first), 'invalid entry', 'invalid entries')}* "
    blocks = [section(heading + "(line: entry — reason)" + note), *invalid_sections(first)]
    if total > len(first):
        blocks.append(context(more_invalid(total, len(first), file)))
    return blocks


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
    excluded_sample: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Counts, the first invalid entries (the rest are in a file in the thread), and
    Create/Cancel carrying the single-use token. ``same_name``: ids of lists already called
    so, a warning (two lists may share a name) rather than a refusal. ``excluded_sample``:
    the first numbers left out for the do-not-call list, shown masked."""
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
    if counts.excluded:
        sample = ", ".join(mask_number(n) for n in excluded_sample)
        blocks.append(
            section(
                f":no_entry_sign: *{plural(counts.excluded, 'number')} left out*: on the "
                f"do-not-call list (`/dialer dnc`), so never sent to the dialer. "
                f"E.g. {esc(sample)}."
            )
        )
    if columns:
        blocks.append(context("Attributes from the columns: " + esc(", ".join(columns))))
    if invalid:
        first = invalid[:shown]
        blocks.extend(first_invalid(first, counts.invalid, invalid_file))
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
        + (f", {counts.excluded:,} left out (do-not-call)" if counts.excluded else "")
    )
    return message(text, blocks)


def _cut_note(file: InvalidFile, total: int) -> str:
    return (
        f"the first {file.rows:,} of {total:,} (the file stops at "
        f"{MAX_INVALID_FILE_BYTES // (1024 * 1024)} MB)"
    )


def more_invalid(total: int, shown: int, file: InvalidFile | None) -> str:
    """Where the invalid entries after the first `shown` are: the file in the thread."""
    listed = _cut_note(file, total) if file is not None and file.cut else f"all {total:,}"
    return (
        f"{total - shown:,} more invalid entries: {listed} are in the file "
        f"{INVALID_FILE_NAME} (line, entry, reason) in this message's thread."
    )


def invalid_file_title(name: str) -> str:
    return f"Invalid entries: {name}"[:255]


def invalid_file_comment(name: str, file: InvalidFile, total: int, of: str = "call list") -> str:
    """The text Slack shows with the uploaded file (mrkdwn: the name is escaped); ``of``
    says what the entries were for (a call list, or the do-not-call list's reason)."""
    listed = _cut_note(file, total) if file.cut else f"all {total:,}"
    return f":clipboard: Invalid entries of {of} *{esc(name)}*: {listed}."


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


def dnc_changed() -> dict[str, Any]:
    return message(
        ":no_entry_sign: Numbers were added to the do-not-call list after this list was "
        "checked, so it may hold one of them. Nothing was sent; run `/dialer upload` again "
        "to check it against the list as it is now."
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


# ---------------------------------------------------------------------------- listings

SHOW_ACTION = "call_list:show"
NUMBERS_ACTION = "call_list:numbers"
PAGE_ACTION = "lists:page"
ENTRIES_SHOWN = 10
PAGE_SIZE = 100  # lines of a listing page; the listing chunks them under the block limits
CAMPAIGNS_SHOWN = 20


def _count(cl: CallList) -> str:
    n = cl.numbers_count
    return "? numbers" if n is None else f"{n} number{'s' if n != 1 else ''}"


def call_lists_message(
    lists: list[CallList], page: int, wanted: Filter, campaigns: list[Campaign]
) -> dict[str, Any]:
    """`/dialer lists [state …] [text] [page]`: a state keeps the lists its campaigns use."""
    matching = sorted(wanted.call_lists(lists, campaigns), key=lambda x: x.id)
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = matching[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    used_by: dict[int, int] = {}
    for c in campaigns:
        for list_id in set(c.call_lists):
            used_by[list_id] = used_by.get(list_id, 0) + 1
    lines = [
        f"*{esc(cl.name)}* (#{cl.id}) — {_count(cl)}"
        + (f" · used by {used_by[cl.id]} campaign(s)" if used_by.get(cl.id) else "")
        for cl in shown
    ]
    title = (
        f"Call lists: {clip(str(wanted), 60)} ({len(matching)})"
        if wanted
        else f"Call lists ({len(lists)})"
    )
    empty = (
        f"No call list matches `{esc(wanted)}`. `/dialer lists` shows them all."
        if wanted
        else "No call lists yet. Create one with `/dialer upload`."
    )
    msg = listing(title, lines, empty)
    if pages > 1:
        blocks = msg["blocks"][:46]
        blocks.append(context(f"Page {page} of {pages} · `/dialer list <id|name>` for one list"))
        nav = []
        if page > 1:
            nav.append(button("◀ Previous", PAGE_ACTION, wanted.page_value(page - 1)))
        if page < pages:
            nav.append(button("Next ▶", PAGE_ACTION, wanted.page_value(page + 1)))
        blocks.append(actions(*nav, block_id="lists:nav"))
        msg["blocks"] = blocks
    return msg


def entry_line(entry: CallListEntry, *, full: bool) -> str:
    number = entry.number if full else mask_number(entry.number)
    attrs = ", ".join(f"{esc(clip(k, 40))}: {esc(clip(v, 80))}" for k, v in entry.attributes[:8])
    return f"`{esc(number)}`" + (f" — {attrs}" if attrs else "")


def call_list_detail(
    cl: CallList,
    campaigns: list[Campaign],
    allowed: frozenset[str],
    *,
    revealed_by: str | None = None,
) -> dict[str, Any]:
    """Name, count, creation time, the campaigns using it, the first entries (masked unless
    ``revealed_by`` names who asked for them in full, after the audit row was written)."""
    using = [c for c in sorted(campaigns, key=lambda c: c.id) if cl.id in c.call_lists]
    used_lines = [f"*{esc(c.name)}* (#{c.id}) — {state_label(c.state)}" for c in using]
    if len(used_lines) > CAMPAIGNS_SHOWN:
        extra = len(used_lines) - CAMPAIGNS_SHOWN
        used_lines = used_lines[:CAMPAIGNS_SHOWN] + [f"and {extra} more"]
    fields = [
        f"*Numbers*\n{_count(cl)}",
        f"*Created*\n{slack_time(cl.created_at) if cl.created_at else 'not given'}",
    ]
    entries = cl.entries[:ENTRIES_SHOWN]
    full = revealed_by is not None
    blocks: list[Block] = [
        header(f"Call list #{cl.id}: {cl.name}"),
        section(f"*{esc(cl.name)}* (#{cl.id})", fields=fields),
        section("*Used by*\n" + ("\n".join(used_lines) or "no campaign")),
    ]
    if entries:
        total = cl.numbers_count if cl.numbers_count is not None else len(cl.entries)
        title = f"*First {len(entries)} of {total} entries*"
        blocks.append(section(title + "\n" + "\n".join(entry_line(e, full=full) for e in entries)))
        if full:
            blocks.append(
                context(f"Numbers shown in full to <@{revealed_by}>; recorded in the audit log.")
            )
        else:
            blocks.append(
                context(
                    f"Numbers are masked except the last {VISIBLE_DIGITS} digits. "
                    + (
                        "Showing them in full is recorded in the audit log."
                        if "show numbers" in allowed
                        else "Showing them in full needs the operator role."
                    )
                )
            )
            if "show numbers" in allowed:
                blocks.append(
                    actions(
                        button("Show numbers", NUMBERS_ACTION, str(cl.id)),
                        block_id=f"call_list:{cl.id}",
                    )
                )
    else:
        blocks.append(context("The dialer's answer carried no entries for this list."))
    return message(f"Call list {esc(cl.name)} (#{cl.id}): {_count(cl)}", blocks)
