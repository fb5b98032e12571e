"""Every model of the application, imported in one place so the metadata is whole
(create_all in tests, autogenerate in migrations). Each feature adds its own line."""

from forum.alerts import models as alerts_models  # noqa: F401 - the alerts feature
from forum.calls import models as calls_models  # noqa: F401 - the calls feature's tables
from forum.crypto.models import DataKey, KeyringCheck
from forum.drafts.models import Draft  # noqa: F401 - drafts of posts, replies, minutes
from forum.members.models import (
    Invite,
    Member,
    MemberSession,
    Nomination,
    Organisation,
    RecoveryCode,
)
from forum.members.vetting_models import (  # noqa: F401 - sponsors, yearly re-confirmation
    MemberConfirmation,
    NominationSponsor,
)
from forum.notify.live import LiveEvent  # noqa: F401 - the live channel
from forum.notify.models import Notification, OutboxMessage, WebhookEndpoint
from forum.security.audit import AuditEvent
from forum.threads.models import (  # noqa: F401 - the threads feature
    Attachment,
    Category,
    Flag,
    Post,
    PostRevision,
    ReadState,
    SearchChange,
    Thread,
    ThreadParticipant,
    Watch,
)

__all__ = [
    "AuditEvent",
    "DataKey",
    "Invite",
    "KeyringCheck",
    "Member",
    "MemberSession",
    "Nomination",
    "Notification",
    "Organisation",
    "OutboxMessage",
    "RecoveryCode",
    "WebhookEndpoint",
]
