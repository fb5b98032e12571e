"""Content-free security e-mails to a member about their own account, through the outbox.

They say what happened and what to do if it was not them; never an address, a device string,
a code or a link that is itself a secret. Sent whatever the member's notification settings:
a member must learn that someone else used their account.
"""

from __future__ import annotations

from forum.db import new_id
from forum.i18n import member_locale, speaking
from forum.members.mail import email_text
from forum.members.models import Member
from forum.notify.outbox import enqueue_external

# The events, each with its text in templates/email/security/<event>.txt.
EVENTS = ("new_device", "password_changed", "factor_reset", "recovery_code_used", "new_role")


def send(member: Member, event: str) -> str:
    """Queue one security e-mail about `event` (one of EVENTS) for the member."""
    if event not in EVENTS:
        raise KeyError(event)
    with speaking(member_locale(member)):  # in the member's language, whoever caused it
        subject, body = email_text(f"security/{event}")
    return enqueue_external(
        idempotency_key=f"security:{event}:{member.id}:{new_id()}",
        channel="email",
        kind="security",
        subject=subject,
        body=body,
        link="/account/sessions",
        member_id=member.id,
    )
