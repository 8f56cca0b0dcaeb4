"""Workflow Builder step runs, each acted on once.

Slack names every run of a custom step with a ``function_execution_id`` and delivers the
``function_executed`` event again when it did not get its 200 in time. The INSERT that
creates a run's row is the claim: of any number of deliveries, threads or processes only
the one whose INSERT added the row runs the step. The row then keeps what Slack was told
(outputs or error), so a later delivery gets the same answer and nothing runs twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.db import Component, dump_json, first_as, json_field


@dataclass(frozen=True)
class WorkflowRun:
    """A step run as stored; ``state`` is ``running`` until ``outputs`` or ``error`` is set."""

    execution_id: str
    step: str
    user_id: str | None
    workflow_execution_id: str | None
    state: str
    outputs: Any = json_field()
    error: str | None
    started_at: str
    finished_at: str | None


@dataclass(frozen=True)
class RunClaim:
    """``ok`` for exactly one caller per execution id; otherwise ``run`` is the row found."""

    ok: bool
    run: WorkflowRun | None


class WorkflowRuns(Component):
    """Claim and finish step runs."""

    def claim(
        self,
        execution_id: str,
        *,
        step: str,
        user_id: str | None,
        workflow_execution_id: str | None,
    ) -> RunClaim:
        """Insert the run as ``running``; ok only for the caller whose INSERT added it."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO workflow_runs (execution_id, step, user_id,"
                " workflow_execution_id, state, started_at) VALUES (?, ?, ?, ?, 'running', ?)",
                [execution_id, step, user_id, workflow_execution_id, self._now()],
            )
            won = cursor.rowcount == 1
            run = self.get(execution_id)
        return RunClaim(won, run)

    def finish(
        self, execution_id: str, *, outputs: dict[str, Any] | None, error: str | None
    ) -> bool:
        """Keep what Slack is told; only a running row changes (a finished run stays as it was)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE workflow_runs SET state = 'done', outputs = ?, error = ?, finished_at = ?"
                " WHERE execution_id = ? AND state = 'running'",
                [
                    None if outputs is None else dump_json(outputs),
                    error,
                    self._now(),
                    execution_id,
                ],
            )
            return cursor.rowcount == 1

    def get(self, execution_id: str) -> WorkflowRun | None:
        with self._read() as db:
            return first_as(
                WorkflowRun,
                db.query("SELECT * FROM workflow_runs WHERE execution_id = ?", [execution_id]),
            )
