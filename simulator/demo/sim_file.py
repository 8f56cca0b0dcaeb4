"""The simulated dialer's data kept in a file next to the demo's `--db`, so that a second run
finds the campaigns and call lists its audit log and state talk about.

Only the dialer's records are kept (IVR apps, call lists with their numbers, campaigns, the
next ids); tokens, faults and the request log start fresh. JSON, written atomically.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

VERSION = 1
SUFFIX = ".simulator.json"


# Settings of the running simulator, not its data: a second run keeps its own.
NOT_DATA = frozenset({"dialect"})


def _data_fields(state: Any) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(state) if f.name not in NOT_DATA]


def path_for(db_path: str) -> Path:
    return Path(db_path + SUFFIX)


def save(path: Path, state: Any) -> None:
    """Write the state's fields; dicts as [key, value] pairs so integer ids stay integers."""
    fields: dict[str, Any] = {}
    for f in _data_fields(state):
        value = getattr(state, f.name)
        fields[f.name] = {"pairs": list(value.items())} if isinstance(value, dict) else value
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": VERSION, "fields": fields}), encoding="utf-8")
    os.replace(tmp, path)


def load(path: Path, state: Any) -> None:
    """Replace the state's fields with the file's, in place (the running server holds
    `state`). ValueError when the file is not one of ours; the state is then untouched."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("not a simulator state file of this version")
    stored = data.get("fields")
    known = {f.name: getattr(state, f.name) for f in _data_fields(state)}
    if not isinstance(stored, dict) or set(stored) != set(known):
        raise ValueError("its fields are not the simulator's")
    values: dict[str, Any] = {}
    for name, current in known.items():
        value = stored[name]
        if isinstance(current, dict):
            pairs = value.get("pairs") if isinstance(value, dict) else None
            if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in pairs
            ):
                raise ValueError(f"{name} is damaged")
            value = {k: v for k, v in pairs}
        elif type(value) is not type(current):
            raise ValueError(f"{name} is damaged")
        values[name] = value
    for name, value in values.items():
        setattr(state, name, value)
