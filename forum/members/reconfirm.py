"""Yearly re-confirmation and suspension after a long absence, run by a scheduler job.

Each member confirms their organisation and role once every vetting.reconfirm_days. When it is
due they get a reminder (a content-free e-mail and an in-app notice); if they have not confirmed
vetting.reconfirm_grace_days after the reminder, they are suspended and told so. A member who
has not signed in for vetting.inactive_days gets a notice, and is suspended (and told) if they
still have not signed in vetting.inactive_notice_days after it. Every step is audited, and the
coordinators' page shows where each member stands. A coordinator's reinstatement counts as a
confirmation (they vetted the member again). The last active coordinator is never suspended by
the job (the network would have nobody to reinstate anyone); the page shows them as overdue.

The sweep is idempotent: each step records when it happened and is taken once per round, and
each e-mail has an idempotency key, so a rerun or a second process sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from forum.db import utcnow
from forum.extensions import db
from forum.i18n import Text, in_language, member_locale
from forum.lazytext import lazy_gettext as _l
from forum.members.models import Member
from forum.members.sessions import end_all_sessions
from forum.members.vetting_models import MemberConfirmation
from forum.notify.outbox import enqueue_external, notify
from forum.security import audit

CONFIRM_PATH = "/account/confirm-membership"


def _settings() -> dict[str, int]:
    return dict(current_app.config["EXCHANGE"]["vetting"])


def _row(member: Member) -> MemberConfirmation:
    row = db.session.get(MemberConfirmation, member.id)
    if row is None:
        row = MemberConfirmation(member_id=member.id)
        db.session.add(row)
    return row


def _last_confirmed(member: Member, row: MemberConfirmation | None) -> datetime:
    return row.confirmed_at if row and row.confirmed_at else member.created_at


def _last_seen(member: Member, row: MemberConfirmation | None) -> datetime:
    moments = [member.created_at, member.last_sign_in_at, row.confirmed_at if row else None]
    return max(m for m in moments if m is not None)


@dataclass(frozen=True)
class Standing:
    """Where a member stands, for the coordinators' page and the member's own page."""

    member: Member
    confirmed_at: datetime
    due_at: datetime
    reminded_at: datetime | None
    suspend_after: datetime | None
    last_seen_at: datetime
    inactivity_notice_at: datetime | None
    inactive_suspend_after: datetime | None
    suspended_reason: str | None

    @property
    def state(self) -> str:
        """ok, due, reminded, inactive (told), or suspended (why)."""
        if self.member.status == "suspended" and self.suspended_reason:
            why = "not confirmed" if self.suspended_reason == "unconfirmed" else "inactive"
            return f"suspended ({why})"
        if self.member.status == "suspended":
            return "suspended"
        if self.reminded_at:
            return "reminded"
        if self.inactivity_notice_at:
            return "inactive, told"
        return "due" if self.due_at <= utcnow() else "ok"


def standing(member: Member, row: MemberConfirmation | None = None) -> Standing:
    """Where one member stands in the yearly round and the inactivity rule."""
    settings = _settings()
    row = row if row is not None else db.session.get(MemberConfirmation, member.id)
    confirmed = _last_confirmed(member, row)
    reminded = row.reminded_at if row and row.reminded_at and row.reminded_at >= confirmed else None
    seen = _last_seen(member, row)
    notice = row.inactivity_notice_at if row and row.inactivity_notice_at else None
    notice = notice if notice and notice >= seen else None
    return Standing(
        member=member,
        confirmed_at=confirmed,
        due_at=confirmed + timedelta(days=settings["reconfirm_days"]),
        reminded_at=reminded,
        suspend_after=reminded + timedelta(days=settings["reconfirm_grace_days"])
        if reminded
        else None,
        last_seen_at=seen,
        inactivity_notice_at=notice,
        inactive_suspend_after=notice + timedelta(days=settings["inactive_notice_days"])
        if notice
        else None,
        suspended_reason=row.suspended_reason if row else None,
    )


def standings() -> list[Standing]:
    """Every member who is not removed, most urgent first."""
    rows = {r.member_id: r for r in db.session.scalars(select(MemberConfirmation))}
    found = db.session.scalars(select(Member).where(Member.status != "removed"))
    return sorted((standing(m, rows.get(m.id)) for m in found), key=lambda s: s.due_at)


def confirm(member: Member) -> None:
    """The member confirms that their organisation and role are still right."""
    if not member.is_active_member:
        raise ValueError("only an active member confirms their membership")
    row = _row(member)
    row.confirmed_at = utcnow()
    row.reminded_at = None
    row.inactivity_notice_at = None
    db.session.flush()
    audit.record("member.reconfirmed", actor=member, target_type="member", target_id=member.id)


def restart(member: Member) -> None:
    """After a coordinator reinstates a member: a new round starts from now."""
    row = _row(member)
    row.confirmed_at = utcnow()
    row.reminded_at = None
    row.inactivity_notice_at = None
    row.suspended_reason = None
    row.suspended_at = None
    db.session.flush()


def _mail(member: Member, step: str, subject: Text, body: Text, stamp: datetime) -> None:
    # Sent to the address itself (not through the member's preferences): an account notice
    # must reach a member who turned notifications off, and one just suspended. Written in
    # the member's language (lazy texts are translated here).
    language = member_locale(member)
    subject, body = in_language(subject, language), in_language(body, language)
    enqueue_external(
        idempotency_key=f"reconfirm:{member.id}:{step}:{stamp:%Y%m%d%H%M%S}",
        channel="email",
        kind="account",
        subject=subject,
        body=body,
        link=CONFIRM_PATH if step in ("reminder",) else "/sign-in",
        recipient=member.email,
        recipient_key=member.dek_id,
    )


def _active_coordinators() -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.role == "coordinator", Member.status == "active")
        )
        or 0
    )


def _suspend(member: Member, row: MemberConfirmation, reason: str, now: datetime) -> bool:
    if member.role == "coordinator" and _active_coordinators() <= 1:
        return False
    app_name = current_app.config["EXCHANGE"]["app"]["name"]
    body = (
        _l(
            "Your account on the %(app_name)s is suspended because you did not confirm your "
            "organisation and role in time. A coordinator can reinstate it: reply to your "
            "coordinators if you still need access.",
            app_name=app_name,
        )
        if reason == "unconfirmed"
        else _l(
            "Your account on the %(app_name)s is suspended because you have not signed in for a "
            "long time. A coordinator can reinstate it: reply to your coordinators if you still "
            "need access.",
            app_name=app_name,
        )
    )
    _mail(
        member,
        f"suspended-{reason}",
        _l("Your %(app_name)s account is suspended", app_name=app_name),
        body,
        now,
    )
    member.status = "suspended"
    member.status_changed_at = now
    row.suspended_reason = reason
    row.suspended_at = now
    ended = end_all_sessions(member, "suspended")
    audit.record(
        "member.suspended",
        target_type="member",
        target_id=member.id,
        reason=reason,
        count=ended,
    )
    return True


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Remind, tell and suspend whoever is due; returns what it did (counts)."""
    now = now or utcnow()
    settings = _settings()
    app_name = current_app.config["EXCHANGE"]["app"]["name"]
    done = {"reminded": 0, "told_inactive": 0, "suspended": 0}
    rows = {r.member_id: r for r in db.session.scalars(select(MemberConfirmation))}
    for member in db.session.scalars(select(Member).where(Member.status == "active")).all():
        row = rows.get(member.id)
        state = standing(member, row)
        if state.suspend_after and now >= state.suspend_after:
            if _suspend(member, row or _row(member), "unconfirmed", now):
                done["suspended"] += 1
                continue
        if state.inactive_suspend_after and now >= state.inactive_suspend_after:
            if _suspend(member, row or _row(member), "inactive", now):
                done["suspended"] += 1
                continue
        if state.reminded_at is None and now >= state.due_at:
            row = row or _row(member)
            row.reminded_at = now
            _mail(
                member,
                "reminder",
                _l("Please confirm your %(app_name)s membership", app_name=app_name),
                _l(
                    "Once a year each member of the %(app_name)s confirms their organisation and "
                    "role. Please sign in and confirm within %(days)s "
                    "days; after that your account is suspended until a coordinator reinstates it.",
                    app_name=app_name,
                    days=settings["reconfirm_grace_days"],
                ),
                now,
            )
            notify(
                [member],
                event_key=f"reconfirm:{member.id}:{now:%Y%m%d}",
                kind="account",
                text=_l("Please confirm your organisation and role for this year."),
                key=member.dek_id,
                link=CONFIRM_PATH,
                channels=("inapp",),
            )
            audit.record("member.reconfirm_reminded", target_type="member", target_id=member.id)
            done["reminded"] += 1
        inactive_for = now - state.last_seen_at
        if state.inactivity_notice_at is None and inactive_for >= timedelta(
            days=settings["inactive_days"]
        ):
            row = row or _row(member)
            row.inactivity_notice_at = now
            _mail(
                member,
                "inactive",
                _l("Your %(app_name)s account will be suspended", app_name=app_name),
                _l(
                    "You have not signed in to the %(app_name)s for %(days)s days. "
                    "Sign in within %(notice)s days to keep your account; "
                    "after that it is suspended until a coordinator reinstates it.",
                    app_name=app_name,
                    days=inactive_for.days,
                    notice=settings["inactive_notice_days"],
                ),
                now,
            )
            audit.record("member.inactivity_notice", target_type="member", target_id=member.id)
            done["told_inactive"] += 1
    db.session.flush()
    return done
