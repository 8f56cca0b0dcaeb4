"""manifest.yml is a manifest Slack accepts: Slack's published JSON Schema (2.0.0, vendored in
tests/data), and its Workflow Builder steps are the ones the code answers, with the inputs
and outputs the code reads and writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from handlers.workflows.listeners import STEPS

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "data" / "manifest.schema.2.0.0.json"


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_passes_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(manifest())]
    assert errors == []


def test_the_schema_catches_a_broken_manifest() -> None:
    """The check above can fail: a mistyped step parameter is refused."""
    broken = manifest()
    broken["functions"]["pause_campaign"]["input_parameters"]["properties"]["user"]["type"] = (
        "slack#/types/person"
    )
    broken["settings"]["org_deploy"] = True
    schema = json.loads(SCHEMA.read_text())
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(broken))) == 2


def test_custom_steps_are_declared_as_the_code_answers_them() -> None:
    m = manifest()
    assert m["settings"]["org_deploy_enabled"] is True
    assert m["settings"]["function_runtime"] == "remote"
    assert "function_executed" in m["settings"]["event_subscriptions"]["bot_events"]
    functions = m["functions"]
    assert set(functions) == set(STEPS)
    for callback_id, f in functions.items():
        inputs = f["input_parameters"]["properties"]
        assert f["title"] and f["description"]
        assert inputs["user"]["type"] == "slack#/types/user_id", callback_id
        assert inputs["channel"]["type"] == "slack#/types/channel_id", callback_id
        assert "user" in f["input_parameters"]["required"]
    for step in ("pause_campaign", "unpause_campaign", "start_campaign", "campaign_status"):
        outputs = functions[step]["output_parameters"]["properties"]
        assert {k: v["type"] for k, v in outputs.items()} == {
            "campaign_id": "integer",
            "campaign_name": "string",
            "state": "string",
        }
        assert functions[step]["input_parameters"]["properties"]["campaign"]["type"] == "string"
    pause_all = functions["pause_all_campaigns"]["output_parameters"]["properties"]
    assert set(pause_all) == {"paused_count", "failed_campaigns"}
