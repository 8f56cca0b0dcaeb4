"""The `/dialer history` query: what its words asked for (handlers/grammar.py reads them:
a count, `#12` or `campaign spring`, `@bob`, `failed|denied`), as the store is asked it.

The query also travels in the "Older ▶" button, as compact JSON, with the id to page
back from.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from bot.find import positive_int
from handlers.grammar import DEFAULT_COUNT, MAX_COUNT, OUTCOME_FILTERS, History, user_arg
from handlers.payload import load_object


@dataclass(frozen=True)
class HistoryQuery:
    count: int = DEFAULT_COUNT
    campaign_id: int | None = None
    user_id: str | None = None
    outcome: str | None = None
    before_id: int | None = None  # page back from here ("Older ▶")

    @classmethod
    def of(cls, cmd: History) -> HistoryQuery:
        """The query `/dialer history …` asked for, once the router resolved its campaign."""
        return cls(
            count=cmd.count,
            campaign_id=cmd.campaign_id if cmd.campaign else None,
            user_id=cmd.user_id,
            outcome=cmd.outcome,
        )

    def older(self, oldest_shown: int) -> HistoryQuery:
        return replace(self, before_id=oldest_shown)

    def to_value(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None})

    @classmethod
    def from_value(cls, raw: str) -> HistoryQuery | None:
        """The query of an "Older ▶" button, or None when the value is not one we made."""
        data = load_object(raw, max_depth=2)
        if data is None:
            return None
        count = positive_int(data.get("count", DEFAULT_COUNT), max_value=MAX_COUNT)
        campaign = data.get("campaign_id")
        before = data.get("before_id")
        user = data.get("user_id")
        outcome = data.get("outcome")
        if count is None or (user is not None and user_arg(str(user)) is None):
            return None
        if outcome is not None and outcome not in OUTCOME_FILTERS:
            return None
        return cls(
            count=count,
            campaign_id=positive_int(campaign) if campaign is not None else None,
            user_id=user,
            outcome=outcome,
            before_id=positive_int(before) if before is not None else None,
        )
