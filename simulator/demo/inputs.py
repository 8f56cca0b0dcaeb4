"""Modal inputs as console questions for `dialer-bot demo`: which inputs a view asks for,
how each is described and shown, and how a typed answer becomes the view state Slack would
send. Pure functions only (no I/O), like simulator/demo/render.py, whose text helpers it uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.find import positive_int
from simulator.demo.render import Names, text_of

SELECTS = ("static_select", "external_select", "radio_buttons")
MULTI_SELECTS = ("multi_static_select", "multi_external_select", "checkboxes")
TEXT_INPUTS = ("plain_text_input", "email_text_input", "url_text_input", "number_input")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class AnswerError(ValueError):
    """The answer does not fit the input; the message says what would."""


@dataclass(frozen=True)
class InputSpec:
    """One input block of a modal, as the console asks it."""

    block_id: str
    action_id: str
    kind: str
    label: str
    hint: str
    optional: bool
    element: dict[str, Any]
    options: tuple[dict[str, Any], ...]
    dispatch: bool

    @property
    def multiline(self) -> bool:
        return bool(self.element.get("multiline"))

    @property
    def external(self) -> bool:
        return self.kind in ("external_select", "multi_external_select")

    @property
    def multi(self) -> bool:
        return self.kind.startswith("multi_") or self.kind == "checkboxes"


def _options_of(el: dict[str, Any]) -> list[dict[str, Any]]:
    opts = list(el.get("options") or [])
    for group in el.get("option_groups") or []:
        opts.extend(group.get("options") or [])
    return opts


def input_specs(view: Mapping[str, Any], names: Names | None = None) -> list[InputSpec]:
    """The input blocks of a view, in order (block_id falls back to the index, as Slack's does)."""
    out = []
    for i, block in enumerate(view.get("blocks") or []):
        if block.get("type") != "input":
            continue
        el = block.get("element") or {}
        out.append(
            InputSpec(
                block_id=str(block.get("block_id") or f"block{i}"),
                action_id=str(el.get("action_id") or f"action{i}"),
                kind=str(el.get("type", "")),
                label=text_of(block.get("label"), names),
                hint=text_of(block.get("hint"), names),
                optional=bool(block.get("optional")),
                element=el,
                options=tuple(_options_of(el)),
                dispatch=bool(block.get("dispatch_action")),
            )
        )
    return out


def option_label(opt: Mapping[str, Any], names: Names | None = None) -> str:
    label = text_of(opt.get("text"), names)
    desc = text_of(opt.get("description"), names)
    return f"{label} — {desc}" if desc else label


def options_lines(options: Iterable[Mapping[str, Any]], names: Names | None = None) -> list[str]:
    """Numbered options, several to a line when they are short."""
    items = [f"{i}) {option_label(o, names)}" for i, o in enumerate(options, start=1)]
    if any("—" in x or len(x) > 36 for x in items):
        return ["  " + x for x in items]
    lines: list[str] = []
    row = ""
    for item in items:  # packed into rows under 80 columns, so long lists stay readable
        if row and len(row) + 2 + len(item) > 76:
            lines.append("  " + row)
            row = ""
        row = f"{row}  {item}" if row else item
    return lines + (["  " + row] if row else [])


def initial_state(spec: InputSpec) -> dict[str, Any]:
    """What Slack's state holds for an input nobody touched: its initial value, or nothing."""
    el, kind = spec.element, spec.kind
    state: dict[str, Any] = {"type": kind}
    if kind in TEXT_INPUTS:
        state["value"] = el.get("initial_value")
    elif kind in SELECTS:
        state["selected_option"] = el.get("initial_option")
    elif kind in MULTI_SELECTS:
        state["selected_options"] = list(el.get("initial_options") or [])
    elif kind == "timepicker":
        state["selected_time"] = el.get("initial_time")
    elif kind == "datepicker":
        state["selected_date"] = el.get("initial_date")
    elif kind == "file_input":
        state["files"] = []
    elif kind == "users_select":
        state["selected_user"] = el.get("initial_user")
    elif kind == "multi_users_select":
        state["selected_users"] = list(el.get("initial_users") or [])
    elif kind in ("conversations_select", "channels_select"):
        key = "conversation" if kind.startswith("conv") else "channel"
        state[f"selected_{key}"] = el.get(f"initial_{key}")
    elif kind in ("multi_conversations_select", "multi_channels_select"):
        key = "conversations" if "conv" in kind else "channels"
        state[f"selected_{key}"] = list(el.get(f"initial_{key}") or [])
    return state


def state_display(spec: InputSpec, state: Mapping[str, Any], names: Names | None = None) -> str:
    """A state value as a short text ('' when empty): the default in [brackets], or an answer."""
    names = names or Names()
    if "value" in state:
        return str(state.get("value") or "")
    if "selected_option" in state:
        opt = state.get("selected_option")
        return text_of(opt.get("text"), names) if opt else ""
    if "selected_options" in state:
        return ", ".join(text_of(o.get("text"), names) for o in state.get("selected_options", []))
    if "files" in state:
        return ", ".join(str(f.get("name", f.get("id"))) for f in state.get("files", []))
    for key, value in state.items():
        if key.startswith("selected_"):
            if isinstance(value, list):
                return ", ".join(_name_of(v, names) for v in value)
            return _name_of(value, names) if value else ""
    return ""


def _name_of(slack_id: str, names: Names) -> str:
    if slack_id in names.users:
        return "@" + names.users[slack_id]
    if slack_id in names.channels:
        return "#" + names.channels[slack_id]
    return slack_id


def is_empty(state: Mapping[str, Any]) -> bool:
    return all(v in (None, "", []) for k, v in state.items() if k != "type")


def describe_input(spec: InputSpec, default: str, names: Names | None = None) -> list[str]:
    """The lines shown before asking: label, hint, how to answer, options, default."""
    names = names or Names()
    how = {
        "timepicker": "HH:MM",
        "datepicker": "YYYY-MM-DD",
        "file_input": "path of a local file",
        "number_input": "a number",
        "email_text_input": "an email address",
        "url_text_input": "a URL",
    }.get(spec.kind, "")
    if spec.multi:
        how = "one or more: numbers or values, comma-separated"
    if spec.multiline:
        how = "several lines; end with a line holding only '.'"
    if spec.kind in ("users_select", "multi_users_select"):
        how = "user ID or @name"
    if spec.kind.endswith(("conversations_select", "channels_select")):
        how = "channel ID or #name"
    head = spec.label + (" (optional)" if spec.optional else "")
    notes = [n for n in (how, f"default: {default}" if default else "") if n]
    lines = [head + (f"  [{'; '.join(notes)}]" if notes else "")]
    if spec.hint:
        lines.append(f"  hint: {spec.hint}")
    placeholder = text_of(spec.element.get("placeholder"), names)
    if placeholder:
        lines.append(
            "  " + (placeholder if placeholder.lower().startswith("e.g") else f"e.g. {placeholder}")
        )
    if spec.options and not spec.external:
        lines.extend(options_lines(spec.options, names))
    return lines


def _pick(options: tuple[dict[str, Any], ...], raw: str, names: Names) -> dict[str, Any]:
    raw = raw.strip()
    number = positive_int(raw)
    if number is not None and number <= len(options):
        return options[number - 1]
    for opt in options:
        if raw == str(opt.get("value")):
            return opt
    folded = raw.casefold()
    for opt in options:
        if folded == text_of(opt.get("text"), names).casefold():
            return opt
    raise AnswerError(f"'{raw}' is not one of the options; answer with its number or value")


def _picks(options: tuple[dict[str, Any], ...], raw: str, names: Names) -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        items = [str(n) for n in range(int(m[1]), int(m[2]) + 1)] if m else [part]
        for item in items:
            opt = _pick(options, item, names)
            if opt not in chosen:
                chosen.append(opt)
    return chosen


def _check_text(spec: InputSpec, value: str) -> None:
    el = spec.element
    if el.get("min_length") and len(value) < int(el["min_length"]):
        raise AnswerError(f"needs at least {el['min_length']} characters")
    if el.get("max_length") and len(value) > int(el["max_length"]):
        raise AnswerError(f"takes at most {el['max_length']} characters")
    if spec.kind == "number_input":
        try:
            number = float(value) if el.get("is_decimal_allowed") else int(value)
        except ValueError:
            whole = "" if el.get("is_decimal_allowed") else "whole "
            raise AnswerError(f"'{value}' is not a {whole}number") from None
        if el.get("min_value") is not None and number < float(el["min_value"]):
            raise AnswerError(f"must be at least {el['min_value']}")
        if el.get("max_value") is not None and number > float(el["max_value"]):
            raise AnswerError(f"must be at most {el['max_value']}")
    if spec.kind == "email_text_input" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise AnswerError(f"'{value}' is not an email address")
    if spec.kind == "url_text_input" and not re.match(r"^https?://\S+$", value):
        raise AnswerError(f"'{value}' is not a URL")


def _lookup_id(raw: str, table: Mapping[str, str], sigil: str) -> str:
    raw = raw.strip()
    name = raw.removeprefix(sigil)
    for slack_id, known in table.items():
        if name == known:
            return slack_id
    return name


def parse_answer(
    spec: InputSpec,
    answer: str,
    names: Names | None = None,
    options: tuple[dict[str, Any], ...] | None = None,
) -> dict[str, Any]:
    """The state value Slack would send for this answer; raises AnswerError if it does not fit.

    Empty answers are not handled here: the caller decides between default, empty and required.
    File inputs are not handled here either (they need the Slack stand-in to register a file).
    `options` replaces the element's own (the answer of an external select's options listener).
    """
    names = names or Names()
    kind = spec.kind
    opts = options if options is not None else spec.options
    if kind in TEXT_INPUTS:
        _check_text(spec, answer)
        return {"type": kind, "value": answer}
    if kind in SELECTS:
        return {"type": kind, "selected_option": _pick(opts, answer, names)}
    if kind in MULTI_SELECTS:
        chosen = _picks(opts, answer, names)
        if kind != "checkboxes" and spec.element.get("max_selected_items"):
            limit = int(spec.element["max_selected_items"])
            if len(chosen) > limit:
                raise AnswerError(f"choose at most {limit}")
        return {"type": kind, "selected_options": chosen}
    if kind == "timepicker":
        m = _TIME.match(answer.strip())
        if not m:
            raise AnswerError(f"'{answer}' is not a time; write it as HH:MM, e.g. 09:30")
        return {"type": kind, "selected_time": f"{int(m[1]):02d}:{m[2]}"}
    if kind == "datepicker":
        if not _DATE.match(answer.strip()):
            raise AnswerError(f"'{answer}' is not a date; write it as YYYY-MM-DD")
        return {"type": kind, "selected_date": answer.strip()}
    if kind == "users_select":
        return {"type": kind, "selected_user": _lookup_id(answer, names.users, "@")}
    if kind == "multi_users_select":
        ids = [_lookup_id(p, names.users, "@") for p in answer.split(",") if p.strip()]
        return {"type": kind, "selected_users": ids}
    if kind in ("conversations_select", "channels_select"):
        key = "conversation" if kind.startswith("conv") else "channel"
        return {"type": kind, f"selected_{key}": _lookup_id(answer, names.channels, "#")}
    if kind in ("multi_conversations_select", "multi_channels_select"):
        key = "conversations" if "conv" in kind else "channels"
        ids = [_lookup_id(p, names.channels, "#") for p in answer.split(",") if p.strip()]
        return {"type": kind, f"selected_{key}": ids}
    raise AnswerError(f"the console cannot fill a {kind} input")


def view_lines(view: Mapping[str, Any], names: Names | None = None) -> list[str]:
    """A modal's title line; its blocks are shown by the session as it walks them."""
    title = text_of(view.get("title"), names) or "Modal"
    return [f"┌─ {title} " + "─" * max(4, 36 - len(title))]


def one_line(value: str) -> str:
    """An answer as one line of the form summary; long multi-line answers are abbreviated."""
    lines = value.split("\n")
    if not value:
        return "(empty)"
    if len(lines) <= 3:
        return " / ".join(lines)
    return f"{lines[0]} / {lines[1]} / … ({len(lines)} lines)"


def emptied_state(spec: InputSpec) -> dict[str, Any]:
    """An input the user cleared: no value, even where the element has an initial one."""
    state = initial_state(spec)
    return {
        k: ([] if isinstance(v, list) else None) if k != "type" else v for k, v in state.items()
    }


def kept_state(spec: InputSpec, current: dict[str, Any] | None) -> dict[str, Any]:
    """The answer an input keeps when skipped: what it holds, else its initial value, else empty."""
    state = current or initial_state(spec)
    return state if not is_empty(state) else emptied_state(spec)
