"""The demo's portal and Home commands: `dialer <id> <state>` and `home`."""

from __future__ import annotations

from pathlib import Path

from simulator.demo.session import DemoSession
from simulator.demo.source import ScriptInput


class Transcript(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


async def test_a_portal_change_gives_one_notification_and_the_home_shows(tmp_path: Path) -> None:
    out = Transcript()
    session = await DemoSession.start(db_path=str(tmp_path / "demo.db"), out=out)
    try:
        lines = ["dialer 1 paused", "home", "dialer 1 nonsense-word extra", "dialer 9 paused"]
        assert await session.run(ScriptInput(lines, session.out)) == 0
    finally:
        await session.close()
    text = "\n".join(out)
    assert "(in the Voipex portal, campaign #1 is now paused)" in text
    replies = [
        i for i, line in enumerate(out) if line == "--- dialer-bot (#dialer-ops, in a thread) ---"
    ]
    assert len(replies) == 1
    assert out[replies[0] + 1] == (
        "Spring promo (#1) is now ⏸️ paused — changed outside Slack (was ⏹️ stopped)"
    )
    assert "--- dialer-bot updated your App Home ---" in text
    assert "🟢 The dialer is reachable" in text and "] New campaign" in text
    assert "Usage: dialer <campaign id> <state>" in text
    assert "(the portal answered 404" in text
