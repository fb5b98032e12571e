"""Invites: random tokens stored only as a hash, single use, bound to the address, expiring,
revocable, mailed through the outbox with the address and the link sealed."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from forum.crypto import envelope
from forum.db import utcnow
from forum.errors import Invalid
from forum.extensions import db
from forum.members import invites, registration
from forum.members.models import Invite
from forum.notify.models import OutboxMessage
from tests.support.members import TEST_PASSWORD


def test_invite_token_is_long_random_and_only_its_hash_is_stored(app, coordinator):
    invite, token = invites.create_invite("new.expert@example.org", inviter=coordinator)
    db.session.commit()
    assert len(token) >= 43  # 32 random bytes, base64url
    assert invite.token_hash == invites.token_hash(token) != token
    row = db.session.execute(select(Invite.__table__)).mappings().one()
    assert all(token not in str(value) for value in row.values())
    assert invites.find_invite(token).id == invite.id


def test_invite_link_is_absolute_from_the_base_url(app):
    _invite, token = invites.create_invite("someone@example.org")
    assert invites.invite_link(token) == f"http://127.0.0.1:5000/invite/{token}"


def test_invite_expires_after_the_configured_hours(app):
    invite, _ = invites.create_invite("someone@example.org")
    assert invite.expires_at - invite.created_at == timedelta(hours=72)


def test_invite_mail_is_queued_with_sealed_address_and_sealed_link(app, coordinator):
    invite, token = invites.create_invite("queued@example.org", inviter=coordinator)
    db.session.commit()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "invite"))
    assert row.member_id is None and row.channel == "email"
    assert "queued@example.org" not in row.body + row.subject + row.link
    assert token not in row.body + row.link
    ctx = envelope.context("outbox", row.id, "recipient")
    assert envelope.open_text(row.recipient_sealed, ctx) == "queued@example.org"
    link = envelope.open_text(row.link_sealed, envelope.context("outbox", row.id, "link"))
    assert link == invites.invite_link(token)
    assert invite.email == "queued@example.org"


def test_inviting_an_existing_member_is_refused(app, members):
    member = members.make(email="already@example.org")
    with pytest.raises(Invalid, match="already a member"):
        invites.create_invite(member.email)


def test_an_invalid_address_is_refused_in_plain_words(app):
    with pytest.raises(Invalid, match="valid e-mail address"):
        invites.create_invite("not an address")


def test_a_new_invite_to_the_same_address_revokes_the_earlier_one(app):
    first, first_token = invites.create_invite("twice@example.org")
    second, _ = invites.create_invite("Twice@Example.org")
    db.session.commit()
    db.session.refresh(first)
    assert first.revoked_at is not None and second.revoked_at is None
    assert "withdrawn" in invites.invite_problem(invites.find_invite(first_token))


def test_expired_invite_cannot_be_used(app):
    invite, token = invites.create_invite("late@example.org")
    invite.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "expired" in invites.invite_problem(invites.find_invite(token))
    with pytest.raises(Invalid, match="expired"):
        registration.start_registration(
            invite, email="late@example.org", name="Late", password=TEST_PASSWORD
        )


def test_revoked_invite_cannot_be_used(app, coordinator):
    invite, token = invites.create_invite("revoked@example.org", inviter=coordinator)
    invites.revoke_invite(invite, actor=coordinator)
    db.session.commit()
    assert "withdrawn" in invites.invite_problem(invites.find_invite(token))
    assert invite.pending_totp_sealed is None


def test_an_unknown_token_says_the_link_is_not_valid(app):
    assert "not valid" in invites.invite_problem(invites.find_invite("made-up-token"))


def test_registration_refuses_a_different_address_than_the_invited_one(app):
    invite, _ = invites.create_invite("invited@example.org")
    with pytest.raises(Invalid, match="different e-mail address"):
        registration.start_registration(
            invite, email="forwarded@example.org", name="Someone", password=TEST_PASSWORD
        )
    assert invite.pending_name_sealed is None


def test_used_invite_cannot_be_used_again_and_revoking_it_is_refused(app, coordinator):
    invite, token = invites.create_invite("once@example.org", inviter=coordinator)
    registration.start_registration(
        invite, email="once@example.org", name="Once", password=TEST_PASSWORD
    )
    secret = registration.enrolment(invite).secret
    member, codes = registration.complete_registration(invite, pyotp.TOTP(secret).now())
    db.session.commit()
    assert len(codes) == 10 and member.email == "once@example.org"
    assert member.sponsor_id == coordinator.id
    assert "already been used" in invites.invite_problem(invites.find_invite(token))
    with pytest.raises(Invalid, match="already been used"):
        registration.complete_registration(invite, pyotp.TOTP(secret).now())
    with pytest.raises(Invalid, match="already been used"):
        invites.revoke_invite(invite, actor=coordinator)


def test_purge_shreds_the_addresses_of_long_closed_invites(app):
    invite, _ = invites.create_invite("old@example.org")
    invite.expires_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert invites.purge_old_invites() == 1
    db.session.commit()
    with pytest.raises(envelope.SealError):
        _ = invite.email
    assert invites.purge_old_invites() == 0


def test_reinviting_an_address_asks_first_and_says_the_earlier_link_stops_working(
    app, coordinator, make_browser
):
    from forum.security.audit import AuditEvent

    admin = make_browser(coordinator)
    form = {"email": "twice@example.org", "role": "member", "organisation": ""}
    assert admin.post("/admin/invites", form).status_code == 302
    first = db.session.scalars(select(Invite)).one()
    again = admin.post("/admin/invites", form)
    page = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "is still open" in page and "stops the earlier link from working" in page
    assert 'name="replace"' in page and 'value="twice@example.org"' in page
    db.session.refresh(first)
    assert first.revoked_at is None and len(db.session.scalars(select(Invite)).all()) == 1
    confirmed = admin.post("/admin/invites", {**form, "replace": "y"})
    assert confirmed.status_code == 302
    shown = admin.get("/admin/invites").get_data(as_text=True)
    assert "the earlier link to this address no longer works" in shown
    db.session.refresh(first)
    assert first.revoked_at is not None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "invite.revoked")
    ).one()
    assert event.target_id == first.id and event.detail_items["reason"] == "replaced"
