"""Staff users, their single-use tokens (invitations, password resets) and console sessions, in tasks' database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.errors import Conflict, NotFound
from services.runtime.mongo import Session
from services.tasks.adapters.mongo import from_doc, to_doc
from services.tasks.staff_users import ConsoleSession, StaffUser, TokenPurpose, email_key


class AccountsStore:
    def __init__(self, db: AsyncDatabase):
        self.users = db["staff_users"]
        self.tokens = db["staff_user_tokens"]
        self.sessions = db["console_sessions"]

    async def ensure_indexes(self) -> None:
        # One login per address: the sign-in form asks for an email and a password, not a tenant.
        await self.users.create_index("email_key", unique=True)
        await self.users.create_index([("tenant_id", ASCENDING), ("email_key", ASCENDING)])
        await self.tokens.create_index("expires_at", expireAfterSeconds=7 * 24 * 3600)
        await self.tokens.create_index([("user_id", ASCENDING), ("purpose", ASCENDING)])
        await self.sessions.create_index("user_id")
        await self.sessions.create_index("created_at", expireAfterSeconds=7 * 24 * 3600)

    # --- users ---

    async def insert_user(self, user: StaffUser, session: Session | None = None) -> None:
        try:
            await self.users.insert_one({**to_doc(user), "email_key": email_key(user.email)}, session=session)
        except DuplicateKeyError:
            raise Conflict(
                f"{user.email} already has a staff account", errors=[{"field": "email", "message": "taken"}]
            ) from None

    async def save_user(self, user: StaffUser, session: Session | None = None) -> None:
        await self.users.replace_one(
            {"_id": user.id}, {**to_doc(user), "email_key": email_key(user.email)}, session=session
        )

    async def user_by_email(self, email: str) -> StaffUser | None:
        doc = await self.users.find_one({"email_key": email_key(email)})
        return StaffUser(**from_doc(doc)) if doc else None

    async def user_by_id(self, user_id: str, session: Session | None = None) -> StaffUser | None:
        doc = await self.users.find_one({"_id": user_id}, session=session)
        return StaffUser(**from_doc(doc)) if doc else None

    async def get_user(self, tenant_id: str, user_id: str, session: Session | None = None) -> StaffUser:
        doc = await self.users.find_one({"_id": user_id, "tenant_id": tenant_id}, session=session)
        if doc is None:
            raise NotFound(f"user {user_id} not found")
        return StaffUser(**from_doc(doc))

    async def list_users(self, tenant_id: str) -> list[StaffUser]:
        docs = await self.users.find({"tenant_id": tenant_id}).sort("email_key", 1).to_list(1000)
        return [StaffUser(**from_doc(d)) for d in docs]

    async def count_admins(self, tenant_id: str, session: Session | None = None) -> int:
        return await self.users.count_documents(
            {"tenant_id": tenant_id, "role": "admin", "active": True}, session=session
        )

    # --- single-use tokens ---

    async def insert_token(
        self,
        token_hash: str,
        purpose: TokenPurpose,
        user: StaffUser,
        expires_at: datetime,
        session: Session | None = None,
    ) -> None:
        # A new token replaces the user's earlier ones of the same purpose: only the newest link works.
        await self.tokens.delete_many({"user_id": user.id, "purpose": purpose}, session=session)
        await self.tokens.insert_one(
            {
                "_id": token_hash,
                "purpose": purpose,
                "user_id": user.id,
                "tenant_id": user.tenant_id,
                "expires_at": expires_at,
                "used_at": None,
            },
            session=session,
        )

    async def find_token(self, token_hash: str, purpose: TokenPurpose) -> dict[str, Any] | None:
        return await self.tokens.find_one({"_id": token_hash, "purpose": purpose})

    async def use_token(self, token_hash: str, purpose: TokenPurpose, now: datetime, session: Session) -> bool:
        """Mark the token used if it is unused and in time; one caller wins."""
        result = await self.tokens.update_one(
            {"_id": token_hash, "purpose": purpose, "used_at": None, "expires_at": {"$gt": now}},
            {"$set": {"used_at": now}},
            session=session,
        )
        return result.modified_count == 1

    # --- sessions ---

    async def insert_session(self, console_session: ConsoleSession) -> None:
        await self.sessions.insert_one(to_doc(console_session))

    async def get_session(self, session_id: str) -> ConsoleSession | None:
        doc = await self.sessions.find_one({"_id": session_id})
        return ConsoleSession(**from_doc(doc)) if doc else None

    async def touch_session(self, session_id: str, now: datetime) -> None:
        await self.sessions.update_one({"_id": session_id}, {"$set": {"seen_at": now}})

    async def delete_session(self, session_id: str) -> None:
        await self.sessions.delete_one({"_id": session_id})

    async def delete_sessions_of(self, user_id: str, session: Session | None = None) -> None:
        await self.sessions.delete_many({"user_id": user_id}, session=session)
