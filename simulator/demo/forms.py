"""Modals in the demo console: a view's inputs asked in turn, then submitted like Slack does.

DemoSession (simulator/demo/session.py) mixes this in; it supplies the Slack stand-in, the input and
the dispatch into the bot. Forms are walked from the view JSON alone, so any modal the bot
opens works without the console knowing it. `:cancel` at any question of a form abandons it:
every open modal is closed as its close button would (view_closed where the view asks for
it), and nothing is submitted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_bolt.response import BoltResponse

from bot.find import positive_int
from simulator.demo import payloads
from simulator.demo.inputs import (
    AnswerError,
    InputSpec,
    describe_input,
    emptied_state,
    initial_state,
    input_specs,
    is_empty,
    kept_state,
    one_line,
    options_lines,
    parse_answer,
    state_display,
    view_lines,
)
from simulator.demo.render import (
    Button,
    Names,
    render_blocks,
    text_of,
)
from simulator.slack_standin import ConsoleSlack

CANCEL = ":cancel"


class FormCancelled(Exception):
    """The user typed :cancel inside a form."""


@dataclass
class _Form:
    """Answers given in one modal, kept while the bot updates the view around them."""

    answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    editing: bool = False
    rest_default: bool = False  # '..' was answered: the remaining inputs keep their defaults


@dataclass
class ModalButton:
    """A button inside the open modal (pressed with the view as its container)."""

    button: Button
    shown: None = None


class ModalConsole:
    """The form half of the console; the session provides the attributes declared here."""

    out: Any
    slack: ConsoleSlack
    who: payloads.Who
    modals: list[str]
    _forms: dict[str, _Form]
    _cancel_hinted: bool = False

    @property
    def names(self) -> Names:
        raise NotImplementedError

    async def _ask(self, prompt: str) -> str:
        raise NotImplementedError

    async def _dispatch(self, body: str) -> BoltResponse:
        raise NotImplementedError

    async def _settle(self) -> None:
        raise NotImplementedError

    def _present(self, first: list[Any]) -> None:
        raise NotImplementedError

    async def press(self, target: Any) -> None:
        raise NotImplementedError

    async def _ask_form(self, prompt: str) -> str:
        answer = await self._ask(prompt)
        if answer.strip() == CANCEL:
            raise FormCancelled
        return answer

    def _view_with_state(self, view_id: str) -> dict[str, Any]:
        """The view as Slack sends it back: the stored view with the answers as state.values."""
        view = dict(self.slack.views[view_id])
        values: dict[str, dict[str, Any]] = {}
        answers = self._forms.get(view_id, _Form()).answers
        for spec in input_specs(view):
            state = answers.get((spec.block_id, spec.action_id)) or initial_state(spec)
            values.setdefault(spec.block_id, {})[spec.action_id] = state
        view["state"] = {"values": values}
        return view

    async def _modal_loop(self) -> None:
        """Fill the top modal until no modal is left open."""
        while self.modals:
            view_id = self.modals[-1]
            if view_id not in self.slack.open_views:
                self.modals.pop()
                continue
            try:
                await self._fill(view_id)
            except FormCancelled:
                await self._cancel_all()
                return

    async def _cancel_all(self) -> None:
        """Close every open modal, the top one first, as its close button would."""
        while self.modals:
            view_id = self.modals.pop()
            view = self.slack.views.get(view_id) or {}
            if view_id in self.slack.open_views and view.get("notify_on_close"):
                await self._dispatch(payloads.view_closed(self._view_with_state(view_id), self.who))
            self._forget(view_id)
        self.out("└─ (form cancelled: nothing was submitted)")
        await self._settle()
        self._present([])

    def _changed(self, view_id: str, version: int) -> bool:
        return (
            not self.modals
            or self.modals[-1] != view_id
            or self.slack.view_versions.get(view_id) != version
        )

    async def _fill(self, view_id: str) -> None:
        """Show the modal, ask its unanswered inputs in order, then offer submit/cancel/buttons.

        Returns whenever the view changed under it (the loop above shows it again).
        """
        version = self.slack.view_versions[view_id]
        view = self.slack.views[view_id]
        form = self._forms.setdefault(view_id, _Form())
        specs = {(s.block_id, s.action_id): s for s in input_specs(view, self.names)}
        form.answers = {k: v for k, v in form.answers.items() if k in specs}
        editing, form.editing = form.editing, False
        for line in view_lines(view, self.names):
            self.out(line)
        if not self._cancel_hinted:
            self._cancel_hinted = True
            self.out(f"│ (type {CANCEL} at any question to abandon this form)")
        modal_buttons: dict[int, ModalButton] = {}
        spec_iter = iter(specs.values())
        for block in view.get("blocks") or []:
            if block.get("type") != "input":
                rendered = render_blocks([block], self.names, first=len(modal_buttons) + 1)
                self._form_out(rendered.lines)
                for b in rendered.buttons:
                    modal_buttons[b.number] = ModalButton(b)
                continue
            spec = next(spec_iter)
            key = (spec.block_id, spec.action_id)
            if key in form.answers and not editing:
                shown = one_line(state_display(spec, form.answers[key], self.names))
                self.out(f"│ {spec.label}: {shown}")
                continue
            while True:
                current = form.answers.get(key)
                if form.rest_default and (
                    spec.optional or not is_empty(current or initial_state(spec))
                ):
                    form.answers[key] = kept_state(spec, current)
                    shown = one_line(state_display(spec, form.answers[key], self.names))
                    self.out(f"│ {spec.label}: {shown}")
                    break
                answer = await self._ask_input(view_id, spec, current)
                if answer is not None:
                    form.answers[key] = answer
                    break
                if not form.rest_default:
                    form.rest_default = True
                    continue
                self.out("│   ✗ this field has no default: answer it")
            if spec.dispatch:
                await self._dispatch_input(view_id, spec, form.answers[key])
                if self._changed(view_id, version):
                    return
        form.rest_default = False
        await self._menu(view_id, version, view, modal_buttons)

    async def _menu(
        self, view_id: str, version: int, view: dict[str, Any], buttons: dict[int, ModalButton]
    ) -> None:
        submit = text_of(view.get("submit"), self.names) if view.get("submit") else None
        close = text_of(view.get("close"), self.names) or ("Close" if not submit else "Cancel")
        has_inputs = bool(input_specs(view))
        if not submit and not buttons:
            await self._close(view_id, view, "└─ (nothing to answer: modal closed)")
            return
        choices = [f"[s] {submit}"] if submit else []
        choices.append(f"[c] {close}")
        if has_inputs:
            choices.append("[e] edit answers")
        choices += [f"[{n}] {p.button.text}" for n, p in sorted(buttons.items())]
        while True:
            answer = (await self._ask_form("└─ " + "  ".join(choices) + " > ")).strip().lower()
            if answer == "s" and submit:
                await self._submit(view_id)
                return
            if answer == "c":
                await self._close(view_id, view)
                return
            if answer == "e" and has_inputs:
                self._forms[view_id].editing = True
                return
            number = positive_int(answer)
            if number in buttons:
                await self.press(buttons[number])
                return
            self.out("   choose one of: " + ", ".join(c.split("]")[0] + "]" for c in choices))

    async def _ask_input(
        self, view_id: str, spec: InputSpec, current: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The state for one input; None when the user answered '..' (defaults for the rest)."""
        default = current or initial_state(spec)
        self._form_out(describe_input(spec, state_display(spec, default, self.names), self.names))
        options = None
        if spec.external:
            options = await self._suggest(view_id, spec, "")
            self._form_out(options_lines(options, self.names))
        while True:
            raw = await self._ask_lines() if spec.multiline else await self._ask_form("│   > ")
            if not raw.strip():
                if not is_empty(default):
                    return default
                if spec.optional:
                    return emptied_state(spec)
                self.out("│   ✗ this field is required")
                continue
            if raw.strip() == "..":
                return None
            if raw.strip() == "-" and spec.optional:
                return emptied_state(spec)
            try:
                if spec.kind == "file_input":
                    return self._upload(raw)
                return parse_answer(spec, raw, self.names, options)
            except AnswerError as exc:
                if options is not None and positive_int(raw) is None:
                    found = await self._suggest(view_id, spec, raw.strip())
                    if len(found) == 1 and not spec.multi:
                        return parse_answer(spec, "1", self.names, tuple(found))
                    if found:
                        options = found
                        self._form_out(options_lines(options, self.names))
                        continue
                self.out(f"│   ✗ {exc}")

    def _form_out(self, lines: Iterable[str]) -> None:
        """Lines inside a modal, each behind the form's margin (text with newlines included)."""
        for line in lines:
            for part in line.split("\n"):
                self.out("│ " + part)

    async def _ask_lines(self) -> str:
        """A multi-line answer: lines until one holding only '.'; an empty first line is empty."""
        lines: list[str] = []
        while True:
            line = await self._ask_form("│   > " if not lines else "│   … ")
            if not lines and line.strip() == "..":
                return ".."
            if line.strip() == "." or (not lines and not line.strip()):
                return "\n".join(lines)
            lines.append(line)

    def _upload(self, raw: str) -> dict[str, Any]:
        files = []
        for part in (p.strip() for p in raw.split(",")):
            path = Path(part).expanduser()
            try:
                files.append(self.slack.add_file(path))
            except (OSError, ValueError) as exc:
                raise AnswerError(f"cannot read {part}: {exc}") from None
        return {"type": "file_input", "files": files}

    async def _suggest(
        self, view_id: str, spec: InputSpec, query: str
    ) -> tuple[dict[str, Any], ...]:
        """Ask the bot's options listener, as Slack does while the user types into the menu."""
        body = payloads.block_suggestion(
            self._view_with_state(view_id),
            self.who,
            block_id=spec.block_id,
            action_id=spec.action_id,
            value=query,
        )
        found = bolt_json(await self._dispatch(body))
        options = list(found.get("options") or [])
        for group in found.get("option_groups") or []:
            options.extend(group.get("options") or [])
        if not options:
            self.out(f"│   (no options match {query!r})" if query else "│   (no options)")
        return tuple(options)

    async def _dispatch_input(self, view_id: str, spec: InputSpec, state: dict[str, Any]) -> None:
        """An input with dispatch_action tells the bot as soon as it changes."""
        action = payloads.input_action(spec.block_id, spec.action_id, state)
        body = payloads.block_actions(
            action,
            self.who,
            trigger_id=self.slack.new_trigger_id(),
            view=self._view_with_state(view_id),
        )
        await self._dispatch(body)
        await self._settle()
        self._present([])

    async def _submit(self, view_id: str) -> None:
        view = self._view_with_state(view_id)
        body = payloads.view_submission(view, self.who, trigger_id=self.slack.new_trigger_id())
        response = await self._dispatch(body)
        if response.status != 200:
            self.out("│ (Slack would show: We had some trouble connecting. Try again?)")
            return
        ack = bolt_json(response)
        action = ack.get("response_action")
        if action == "errors":
            errors = ack.get("errors") or {}
            specs = input_specs(view, self.names)
            self.out("│ The form was not accepted:")
            form = self._forms[view_id]
            for spec in specs:
                if spec.block_id in errors:
                    self.out(f"│   ✗ {spec.label}: {errors[spec.block_id]}")
                    form.answers.pop((spec.block_id, spec.action_id), None)
            for block_id, error in errors.items():
                if block_id not in {s.block_id for s in specs}:
                    self.out(f"│   ✗ {error}")
        elif action == "update" and isinstance(ack.get("view"), dict):
            self.slack.register_view(ack["view"], view_id)
        elif action == "push" and isinstance(ack.get("view"), dict):
            self.modals.append(str(self.slack.register_view(ack["view"])["id"]))
        elif action == "clear":
            for open_id in self.modals:
                self._forget(open_id)
            self.modals.clear()
        else:
            self._forget(view_id)
            self.modals.remove(view_id)
            self.out("└─ (submitted; modal closed)")
        await self._settle()
        self._present([])

    async def _close(
        self, view_id: str, view: dict[str, Any], note: str = "└─ (modal closed)"
    ) -> None:
        if view.get("notify_on_close"):
            body = payloads.view_closed(self._view_with_state(view_id), self.who)
            await self._dispatch(body)
        self._forget(view_id)
        if view_id in self.modals:
            self.modals.remove(view_id)
        self.out(note)
        await self._settle()
        self._present([])

    def _forget(self, view_id: str) -> None:
        self.slack.close_view(view_id)
        self._forms.pop(view_id, None)


def bolt_json(response: BoltResponse) -> dict[str, Any]:
    if not response.body:
        return {}
    try:
        loaded = json.loads(response.body)
    except ValueError:
        return {"text": response.body}
    return loaded if isinstance(loaded, dict) else {}
