"""Automation's own database: rules, rule runs, and its projection of task phases and actions."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.automation.domain import Rule
from services.runtime.mongo import Session

RUNS_PAGE_MAX = 200


class RuleStore:
    def __init__(self, db: AsyncDatabase, keep_runs_days: int = 90):
        self.keep_runs_days = keep_runs_days
        self.rules = db["rules"]
        self.runs = db["rule_runs"]
        self.tasks = db["task_phases"]
        self.actions = db["known_actions"]

    async def ensure_indexes(self) -> None:
        await self.rules.create_index([("tenant_id", 1), ("trigger", 1), ("enabled", 1)])
        await self.runs.create_index([("tenant_id", 1), ("rule_id", 1), ("at", -1)])
        await self.runs.create_index([("tenant_id", 1), ("task_id", 1), ("at", -1)])
        # Runs are an audit trail of decisions, not state: kept for a while, not forever.
        await self.runs.create_index("at", expireAfterSeconds=self.keep_runs_days * 86400, name="runs_ttl")

    # -- rules --

    async def add(self, rule: Rule) -> None:
        await self.rules.insert_one({"_id": rule.id, **rule.model_dump()})

    async def replace(self, rule: Rule) -> None:
        await self.rules.replace_one(
            {"_id": rule.id, "tenant_id": rule.tenant_id}, {"_id": rule.id, **rule.model_dump()}
        )

    async def get(self, tenant_id: str, rule_id: str) -> Rule | None:
        doc = await self.rules.find_one({"_id": rule_id, "tenant_id": tenant_id})
        return Rule.model_validate(doc) if doc else None

    async def remove(self, tenant_id: str, rule_id: str) -> bool:
        return (await self.rules.delete_one({"_id": rule_id, "tenant_id": tenant_id})).deleted_count == 1

    async def rules_of(self, tenant_id: str) -> list[Rule]:
        docs = await self.rules.find({"tenant_id": tenant_id}).sort("created_at", 1).to_list(None)
        return [Rule.model_validate(d) for d in docs]

    async def triggered_by(self, tenant_id: str, trigger: str, session: Session) -> list[Rule]:
        docs = (
            await self.rules.find({"tenant_id": tenant_id, "trigger": trigger, "enabled": True}, session=session)
            .sort("created_at", 1)
            .to_list(None)
        )
        return [Rule.model_validate(d) for d in docs]

    # -- runs --

    async def record_run(self, run: dict[str, Any], session: Session) -> None:
        await self.runs.insert_one(run, session=session)

    async def mark_applied(self, tenant_id: str, command_id: str, applied_by: str, session: Session) -> None:
        """Tasks applied the command `command_id`: its run shows the phase change that followed."""
        await self.runs.update_one(
            {"tenant_id": tenant_id, "sent.event_id": command_id},
            {"$set": {f"applied.{command_id}": applied_by}},
            session=session,
        )

    async def runs_of(
        self, tenant_id: str, *, rule_id: str | None = None, task_id: str | None = None, limit: int = 50
    ) -> list[dict]:
        query: dict[str, Any] = {"tenant_id": tenant_id}
        if rule_id:
            query["rule_id"] = rule_id
        if task_id:
            query["task_id"] = task_id
        docs = await self.runs.find(query).sort("at", -1).limit(min(limit, RUNS_PAGE_MAX)).to_list(None)
        for d in docs:
            d["id"] = d.pop("_id")
        return docs

    # -- what automation knows about tasks and actions, from tasks.events --

    async def set_phase(self, tenant_id: str, task_id: str, phase: str, event_id: str, session: Session) -> None:
        await self.tasks.update_one(
            {"_id": f"{tenant_id}:{task_id}"},
            {"$set": {"tenant_id": tenant_id, "task_id": task_id, "phase": phase, "event_id": event_id}},
            upsert=True,
            session=session,
        )

    async def phase_of(self, tenant_id: str, task_id: str, session: Session) -> str | None:
        doc = await self.tasks.find_one({"_id": f"{tenant_id}:{task_id}"}, session=session)
        return doc["phase"] if doc else None

    async def note_action(self, tenant_id: str, action_id: str, facts: dict[str, Any], session: Session) -> None:
        await self.actions.update_one(
            {"_id": f"{tenant_id}:{action_id}"}, {"$set": facts}, upsert=True, session=session
        )

    async def action(self, tenant_id: str, action_id: str, session: Session) -> dict | None:
        return await self.actions.find_one({"_id": f"{tenant_id}:{action_id}"}, session=session)
