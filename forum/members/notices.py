"""Content-free security e-mails to a member about their own account, through the outbox.

They say what happened and what to do if it was not them; never an address, a device string,
a code or a link that is itself a secret. Sent whatever the member's notification settings:
a member must learn that someone else used their account.
"""

from __future__ import annotations

from flask import current_app

from forum.db import new_id
from forum.members.models import Member
from forum.notify.outbox import enqueue_external

NOT_YOU = (
    "If this was not you, change your password at once and tell a coordinator; if you cannot "
    'sign in any more, use "Forgot your password?" on the sign-in page.'
)

SUBJECTS = {
    "new_device": "A sign-in from a new device",
    "password_changed": "Your password was changed",
    "factor_reset": "Your authenticator app was changed",
    "recovery_code_used": "A recovery code was used",
    "new_role": "Your role changed",
}

BODIES = {
    "new_device": "Your account was just signed in to from a new device or browser.",
    "password_changed": "The password of your account was just changed, and your other "
    "sessions were signed out.",
    "factor_reset": "The authenticator app of your account was just changed or reset.",
    "recovery_code_used": "One of your recovery codes was just used to sign in; it cannot be "
    "used again. You can make new ones under Profile.",
    "new_role": "Your role in the network was just changed.",
}


def send(member: Member, event: str) -> str:
    """Queue one security e-mail about `event` (a key of SUBJECTS) for the member."""
    app_name = current_app.config["EXCHANGE"]["app"]["name"]
    return enqueue_external(
        idempotency_key=f"security:{event}:{member.id}:{new_id()}",
        channel="email",
        kind="security",
        subject=f"{app_name}: {SUBJECTS[event]}",
        body=f"{BODIES[event]}\n\n{NOT_YOU}",
        link="/account/sessions",
        member_id=member.id,
    )
