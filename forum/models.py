"""Every model of the application, imported in one place so the metadata is whole
(create_all in tests, autogenerate in migrations). Each feature adds its own line."""

from forum.calls import models as calls_models  # noqa: F401 - the calls feature's tables
from forum.crypto.models import DataKey, KeyringCheck
from forum.members.models import Member, MemberSession, Organisation
from forum.notify.models import Notification, OutboxMessage
from forum.security.audit import AuditEvent

__all__ = [
    "AuditEvent",
    "DataKey",
    "KeyringCheck",
    "Member",
    "MemberSession",
    "Notification",
    "Organisation",
    "OutboxMessage",
]
