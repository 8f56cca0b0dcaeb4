"""What `dialer-bot doctor` found, as sections of plain lines, and the problems to fix.

Every problem says which setting or which table to change; the report never holds a
secret (the checks only ever see what the dialer client and slack_sdk give back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Out = Callable[[str], None]


@dataclass
class Section:
    """One check: a title, what it found, and the problems that block a bot feature."""

    title: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not blocking
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.skipped

    def say(self, line: str) -> None:
        self.lines.append(line)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)


@dataclass
class Verdict:
    feature: str
    ok: bool
    why: str


@dataclass
class Report:
    sections: list[Section] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    def add(self, section: Section) -> Section:
        self.sections.append(section)
        return section

    @property
    def problems(self) -> list[str]:
        return [p for s in self.sections for p in s.problems]

    @property
    def ok(self) -> bool:
        return not self.problems and all(v.ok for v in self.verdicts)

    def print(self, out: Out) -> None:
        for section in self.sections:
            mark = "--" if section.skipped else ("ok" if section.ok else "!!")
            out(f"[{mark}] {section.title}")
            for line in section.lines:
                out(f"     {line}")
            for note in section.notes:
                out(f"     note: {note}")
            for problem in section.problems:
                out(f"     PROBLEM: {problem}")
        if self.verdicts:
            out("")
            out("Verdict per feature:")
            width = max(len(v.feature) for v in self.verdicts)
            for v in self.verdicts:
                out(f"  {v.feature.ljust(width)}  {'ok  ' if v.ok else 'FAIL'}  {v.why}")
        out("")
        if self.ok:
            out("Everything the bot needs answered as expected.")
        else:
            out(f"{len(self.problems) or 'Some'} problem(s): fix the settings named above.")
