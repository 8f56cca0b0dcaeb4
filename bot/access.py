"""Who may do what: the one map from actions to roles, and the role lookup."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store import Store

ROLES = ("viewer", "operator", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}

# Every slash subcommand and button action names its action here; anything missing is denied.
REQUIRED_ROLE: dict[str, str | None] = {
    "help": None,
    "campaigns": "viewer",
    "campaign": "viewer",
    "ivr": "viewer",
    "lists": "viewer",
    "history": "viewer",
    "subscriptions": "viewer",
    "new": "operator",
    "edit": "operator",
    "upload": "operator",
    "list": "viewer",  # `/dialer list <id|name>`; `/dialer list new` is checked as upload
    "show numbers": "operator",  # full phone numbers of a call list: personal data, audited
    "clone": "operator",  # a new campaign from an existing one, through the form
    "start": "operator",
    "pause": "operator",
    "unpause": "operator",
    "reload": "operator",
    "subscribe": "operator",
    "unsubscribe": "operator",
    "remove": "admin",
    "access": "admin",
    "schedules": "viewer",
    "schedule": "operator",  # `/dialer schedule cancel <n>`: one's own, or any as an admin
    "cancel schedule": "operator",
    # The do-not-call list: removing a number is the risky direction, and the export is
    # the whole list of personal data.
    "dnc": "viewer",
    "dnc check": "viewer",
    "dnc add": "operator",
    "dnc upload": "operator",
    "dnc remove": "admin",
    "dnc export": "admin",
}

# Two-person approvals (bot/approvals.py): approving or rejecting needs the role the
# command itself needs; withdrawing a request needs none, only the requester may.
APPROVABLE = ("start", "pause", "unpause", "reload", "remove")
for _cmd in APPROVABLE:
    REQUIRED_ROLE[f"approve {_cmd}"] = REQUIRED_ROLE[_cmd]
    REQUIRED_ROLE[f"reject {_cmd}"] = REQUIRED_ROLE[_cmd]
    REQUIRED_ROLE[f"cancel {_cmd}"] = None


def approval_action(verb: str, command: str) -> str:
    """The action name of an approval button, e.g. ``approve remove`` (also its audit action)."""
    return f"{verb} {command}"


def rank(role: str | None) -> int:
    return _RANK.get(role or "", 0)


def role_allows(role: str | None, action: str) -> bool:
    """Whether ``role`` suffices for ``action``; an action not in the map is never allowed."""
    if action not in REQUIRED_ROLE:
        return False
    needed = REQUIRED_ROLE[action]
    return needed is None or rank(role) >= rank(needed)


def allowed_for_role(role: str | None, actions: Iterable[str]) -> frozenset[str]:
    """The actions ``role`` may take, e.g. the buttons a notification shows to operators."""
    if actions is REQUIRED_ROLE:  # the usual question, "which buttons?": once per role
        return _everything_for(role)
    return frozenset(a for a in actions if role_allows(role, a))


@functools.lru_cache(maxsize=8)
def _everything_for(role: str | None) -> frozenset[str]:
    """The map is complete once this module is imported, so the answer never changes."""
    return frozenset(a for a in REQUIRED_ROLE if role_allows(role, a))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    needed: str | None
    has: str | None


class Access:
    """Deny by default: DIALER_ADMINS are admins everywhere, everyone else needs a grant."""

    def __init__(self, store: Store, admin_ids: frozenset[str]) -> None:
        self._store = store
        self.admin_ids = admin_ids

    async def role_of(self, user_id: str, channel_id: str | None) -> str | None:
        if user_id in self.admin_ids:
            return "admin"
        grants = await self._store.read(self._store.access_grants.for_user, user_id)
        best: str | None = None
        for grant in grants:
            if grant.channel_id is not None and grant.channel_id != channel_id:
                continue
            if rank(grant.role) > rank(best):
                best = grant.role
        return best

    async def role_everywhere(self, user_id: str) -> str | None:
        """The role a user has in every channel (DIALER_ADMINS or an unscoped grant)."""
        if user_id in self.admin_ids:
            return "admin"
        grants = await self._store.read(self._store.access_grants.for_user, user_id)
        best: str | None = None
        for grant in grants:
            if grant.channel_id is None and rank(grant.role) > rank(best):
                best = grant.role
        return best

    async def allowed(
        self, user_id: str, channel_id: str | None, actions: Iterable[str]
    ) -> frozenset[str]:
        """Which of ``actions`` this user may take in this channel: the buttons to show."""
        return allowed_for_role(await self.role_of(user_id, channel_id), actions)

    async def check(self, user_id: str, channel_id: str | None, action: str) -> Decision:
        if action not in REQUIRED_ROLE:
            return Decision(False, action, "admin", None)
        needed = REQUIRED_ROLE[action]
        if needed is None:
            return Decision(True, action, None, None)
        has = await self.role_of(user_id, channel_id)
        return Decision(rank(has) >= rank(needed), action, needed, has)
