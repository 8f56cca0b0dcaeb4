"""The `/dialer history` grammar, one meaning per word, so no input is ambiguous.

    history                 the last 10 entries of the whole log
    history 50              the last 50 (a lone number is a count, as people read it)
    history #12 20          campaign 12, 20 entries (also: history campaign 12 20)
    history campaign spring a campaign by name (quote a name of several words:
    history #spring         `history campaign "Outage Brno"`), resolved by bot/find.py
    history @bob            what one person did
    history failed|denied   one outcome

Words combine in any order; each kind at most once. The query also travels in the
"Older ▶" button, as compact JSON, with the id to page back from.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from bot.find import Ref
from bot.ids import positive_int
from handlers.args import positive_arg, user_arg
from handlers.blocks import esc

DEFAULT_COUNT = 10
MAX_COUNT = 50
OUTCOME_FILTERS = ("failed", "denied")


@dataclass(frozen=True)
class HistoryQuery:
    count: int = DEFAULT_COUNT
    campaign_id: int | None = None
    user_id: str | None = None
    outcome: str | None = None
    before_id: int | None = None  # page back from here ("Older ▶")
    # A campaign named, not numbered: resolved into campaign_id after the ack (bot/find.py).
    campaign_name: str | None = None

    def older(self, oldest_shown: int) -> HistoryQuery:
        return replace(self, before_id=oldest_shown)

    def to_value(self) -> str:
        """Only resolved queries page, so the name never travels in a button."""
        data = asdict(self)
        data.pop("campaign_name")
        return json.dumps({k: v for k, v in data.items() if v is not None})

    @classmethod
    def from_value(cls, raw: str) -> HistoryQuery | None:
        """The query of an "Older ▶" button, or None when the value is not one we made."""
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict):
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


def parse(args: list[str]) -> HistoryQuery:
    """Runs before the ack; raises ValueError with what to type instead."""
    found: dict[str, object] = {}
    words = list(args)

    def put(kind: str, value: object, word: str) -> None:
        if kind == "count" and kind in found:
            raise ValueError(
                f"takes one count, and `{esc(word)}` is a second one; a campaign is named "
                f"with `#`, e.g. `history #{found[kind]} {esc(word)}`"
            )
        if kind in found:
            raise ValueError(f"names a {kind} twice (`{esc(word)}`); give each at most once")
        found[kind] = value

    while words:
        word = words.pop(0)
        low = word.lower()
        if low == "campaign":
            if not words:
                raise ValueError(
                    "needs an id or a name after `campaign`, e.g. `history campaign 12`"
                    " or `history campaign spring`"
                )
            nxt = words.pop(0)
            put("campaign", _campaign(nxt), nxt)
        elif word.startswith("#") and len(word) > 1:
            put("campaign", _campaign(word), word)
        elif low in OUTCOME_FILTERS:
            put("outcome", low, word)
        elif word.startswith("<@") or word.startswith("@"):
            user = user_arg(word)
            if user is None:
                raise ValueError(
                    f"needs a user mention, and `{esc(word)}` is not one: pick the person "
                    "from Slack's @ list"
                )
            put("user", user, word)
        elif word.isascii() and word.isdigit():
            count = positive_arg(
                word,
                "count",
                max_value=MAX_COUNT,
                hint="the *Older ▶* button under the entries pages further back",
            )
            put("count", count, word)
        else:
            raise ValueError(
                f"does not know `{esc(word)}`: give a count (`history 20`), a campaign "
                "(`history #12`), a person (`history @bob`) or `failed` / `denied`"
            )
    campaign = found.get("campaign")
    return HistoryQuery(
        count=int(found.get("count", DEFAULT_COUNT)),  # type: ignore[call-overload]
        campaign_id=campaign.id if isinstance(campaign, Ref) else None,
        campaign_name=campaign.name if isinstance(campaign, Ref) else None,
        user_id=found.get("user"),  # type: ignore[arg-type]
        outcome=found.get("outcome"),  # type: ignore[arg-type]
    )


def _campaign(word: str) -> Ref:
    """`12`, `#12`: an id; anything else (`spring`, `#spring`, `"Outage Brno"`): a name."""
    bare = word.removeprefix("#")
    if bare.isascii() and bare.isdigit():
        return Ref(id=positive_arg(bare, "campaign id"))
    return Ref.parse([bare], "campaign")
