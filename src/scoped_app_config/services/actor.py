"""Who is asking, in the plugin's own terms (the API layer converts the host's Caller)."""

from __future__ import annotations

import enum
import uuid

import attrs


class ActorRole(enum.StrEnum):
    SUPERADMIN = "superadmin"
    ADMIN = "admin"
    USER = "user"


@attrs.frozen
class Actor:
    user_id: uuid.UUID
    domain_id: uuid.UUID
    role: ActorRole

    @property
    def is_superadmin(self) -> bool:
        return self.role is ActorRole.SUPERADMIN

    @property
    def is_domain_admin(self) -> bool:
        return self.role is ActorRole.ADMIN
