"""Deploy files: a Python buildpack can build the repo, the manifest is honest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from handlers.commands import SUBCOMMANDS

ROOT = Path(__file__).resolve().parent.parent


def test_buildpack_files_install_the_project_on_a_supported_python() -> None:
    lines = [x.strip() for x in (ROOT / "requirements.txt").read_text().splitlines()]
    assert [x for x in lines if x and not x.startswith("#")] == ["."]
    version = (ROOT / ".python-version").read_text().strip()
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11" and tuple(int(p) for p in version.split(".")[:2]) >= (3, 11)


def test_usage_hint_names_every_subcommand() -> None:
    manifest = (ROOT / "manifest.yml").read_text()
    [hint] = re.findall(r'usage_hint: "([^"]+)"', manifest)
    words = set(re.findall(r"[a-z]+", hint))
    assert set(SUBCOMMANDS) <= words, set(SUBCOMMANDS) - words
    assert len(hint) <= 1000  # Slack's limit for usage_hint


def test_manifest_scopes_are_the_ones_the_code_uses() -> None:
    manifest = (ROOT / "manifest.yml").read_text()
    scopes = re.findall(
        r"^\s+- ([a-z.:]+)", manifest.split("scopes:")[1].split("settings:")[0], re.M
    )
    assert scopes == [
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        "files:read",
        "files:write",
        "channels:read",
    ]
