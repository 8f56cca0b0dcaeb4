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


async def test_after_the_readme_session_a_portal_pause_says_it_was_running(tmp_path: Path) -> None:
    """README's session starts campaign 1 (listing, Start, Confirm): Slack then shows it
    running, so the portal's pause is announced against that, not the state before."""
    out = Transcript()
    session = await DemoSession.start(db_path=str(tmp_path / "demo.db"), out=out)
    try:
        lines = ["/dialer campaigns", "2", "8", "dialer 1 paused", "home"]
        assert await session.run(ScriptInput(lines, session.out)) == 0
    finally:
        await session.close()
    text = "\n".join(out)
    assert "✅ @alice started campaign Spring promo (#1). Now 🟢 running." in text
    assert "Spring promo (#1) is now ⏸️ paused — changed outside Slack (was 🟢 running)" in text
    assert "(was ⏹️ stopped)" not in text
    home = text.rsplit("--- dialer-bot updated your App Home ---", 1)[1]
    assert "Spring promo" in home and "⏸️ paused" in home.split("Spring promo", 1)[1][:200]
