"""Block Kit for `/dialer access`: the grant list and the answers to grant / revoke."""

from __future__ import annotations

from typing import Any, Protocol

from handlers.blocks import Block, context, esc, header, message, section, slack_time

SECTION_BUDGET = 2900


class Grant(Protocol):
    """What a view reads of a grant (store.grants.Grant has it; views do not import the store)."""

    @property
    def user_id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def channel_id(self) -> str | None: ...
    @property
    def granted_by(self) -> str | None: ...
    @property
    def granted_at(self) -> str: ...


def where(channels: list[str] | None) -> str:
    """'everywhere' or a list of channel links (IDs only, Slack shows the names)."""
    if not channels:
        return "in every channel"
    return "in " + ", ".join(f"<#{c}>" for c in channels)


def grant_line(g: Grant) -> str:
    by = f" · by <@{g.granted_by}>" if g.granted_by else ""
    scope = f"<#{g.channel_id}>" if g.channel_id else "every channel"
    return f"• <@{g.user_id}> *{esc(g.role)}* in {scope}{by} · {slack_time(g.granted_at)}"


def _chunks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > SECTION_BUDGET:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def access_list(grants: list[Grant], admins: frozenset[str]) -> dict[str, Any]:
    """Everyone who may do anything; everyone else can only run /dialer help."""
    admin_line = (
        "*Admins from DIALER_ADMINS* (every channel; change the setting to remove): "
        + ", ".join(f"<@{a}>" for a in sorted(admins))
        if admins
        else "*DIALER_ADMINS* is empty."
    )
    lines = [grant_line(g) for g in grants]
    blocks: list[Block] = [header("Access"), section(admin_line)]
    blocks += _chunks(lines) if lines else [section("_No grants yet._")]
    # Header, admins, footer and at most 47 sections of grants fit one message.
    blocks = blocks[:49]
    blocks.append(
        context(
            f"{len(grants)} grant{'s' if len(grants) != 1 else ''} · roles: viewer < operator "
            "< admin · a user with no grant here can only run `/dialer help`"
        )
    )
    return message(f"Access: {len(grants)} grant{'s' if len(grants) != 1 else ''}", blocks)


def granted(
    user_id: str, role: str, channels: list[str] | None, added: int, is_bootstrap_admin: bool
) -> dict[str, Any]:
    if added:
        text = f":white_check_mark: <@{user_id}> is now *{esc(role)}* {where(channels)}."
    else:
        text = f":information_source: <@{user_id}> already was *{esc(role)}* {where(channels)}."
    if is_bootstrap_admin:
        text += " (They are an admin everywhere anyway, through DIALER_ADMINS.)"
    return message(text)


def revoked(
    user_id: str,
    role: str | None,
    removed: list[Grant],
    is_bootstrap_admin: bool,
    *,
    everywhere: list[str] | None = None,
) -> dict[str, Any]:
    """``everywhere``: roles the user keeps in every channel, which a per-channel revoke
    cannot take away there."""
    kind = f"*{esc(role)}* grant" if role else "grant"
    if removed:
        scopes = sorted(
            {f"*{esc(g.role)}* {where([g.channel_id] if g.channel_id else None)}" for g in removed}
        )
        count = f"{len(removed)} {kind}{'' if len(removed) == 1 else 's'}"
        text = f":white_check_mark: Removed {count} of <@{user_id}>: " + "; ".join(scopes) + "."
    else:
        text = f":information_source: <@{user_id}> had no {kind}s there; nothing changed."
    if everywhere:
        roles = ", ".join(f"*{esc(r)}*" for r in sorted(set(everywhere)))
        text += (
            f" They still have {roles} everywhere: `/dialer access revoke <@{user_id}>"
            f"{' ' + esc(role) if role else ''}` takes that away, then grant the channels "
            "they keep."
        )
    if is_bootstrap_admin:
        text += (
            " They stay admin everywhere through DIALER_ADMINS; remove them from that setting "
            "to take it away."
        )
    return message(text)


def not_admin_there(channels: list[str] | None) -> dict[str, Any]:
    return message(
        f":no_entry: You can only manage access {where(channels)} where you are admin "
        f"{'everywhere' if not channels else 'in each of those channels'}. Nothing changed."
    )
