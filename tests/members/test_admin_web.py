"""Coordinators manage members, invites, the vetting queue and organisations; members cannot.
Suspension ends sessions at once; removal erases personal data by shredding the member's key."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.crypto import envelope
from forum.crypto.models import DataKey
from forum.extensions import db
from forum.members import invites, vetting
from forum.members.models import Invite, Member, Nomination, Organisation
from forum.members.services import find_member_by_email
from forum.security.audit import AuditEvent

COORDINATOR_PAGES = [
    "/admin",
    "/admin/invites",
    "/admin/vetting",
    "/admin/audit",
    "/admin/organisations",
]


def _audited(action: str) -> bool:
    return db.session.scalar(select(AuditEvent).where(AuditEvent.action == action)) is not None


@pytest.mark.parametrize("path", COORDINATOR_PAGES)
def test_coordinator_pages_are_refused_to_members(app, members, make_browser, path):
    assert make_browser(members.make()).get(path).status_code == 403


def test_coordinator_actions_are_refused_to_members(app, members, make_browser):
    target = members.make()
    member = make_browser(members.make())
    for action in ("role", "suspend", "reinstate", "remove"):
        assert (
            member.post(f"/admin/members/{target.id}/{action}", {"role": "coordinator"}).status_code
            == 403
        )
    assert (
        member.post("/admin/invites", {"email": "x@example.org", "role": "member"}).status_code
        == 403
    )
    db.session.refresh(target)
    assert target.role == "member" and target.status == "active"
    assert db.session.scalar(select(Invite)) is None


@pytest.mark.parametrize("path", COORDINATOR_PAGES)
def test_coordinator_pages_open_for_coordinators(app, coordinator, make_browser, path):
    assert make_browser(coordinator).get(path).status_code == 200


def test_suspension_ends_the_members_sessions_at_once(app, members, coordinator, make_browser):
    target = members.make(name="To Suspend")
    their_browser = make_browser(target)
    assert their_browser.get("/").status_code == 200
    admin = make_browser(coordinator)
    response = admin.post(f"/admin/members/{target.id}/suspend")
    assert response.status_code == 302
    # The next request of the suspended member's browser is sent to sign in.
    nxt = their_browser.get("/members")
    assert nxt.status_code == 302 and "/sign-in" in nxt.headers["Location"]
    db.session.refresh(target)
    assert target.status == "suspended" and _audited("member.suspended")
    assert admin.post(f"/admin/members/{target.id}/reinstate").status_code == 302
    db.session.refresh(target)
    assert target.status == "active"


def test_role_change_and_suspension_need_the_password_again(
    app, members, coordinator, make_browser
):
    from forum.members.models import MemberSession

    target = members.make()
    admin = make_browser(coordinator)
    row = db.session.scalars(
        select(MemberSession).where(MemberSession.member_id == coordinator.id)
    ).one()
    row.reauth_at = row.reauth_at.replace(year=row.reauth_at.year - 1)
    db.session.commit()
    for action in ("role", "suspend", "remove"):
        response = admin.post(f"/admin/members/{target.id}/{action}", {"role": "coordinator"})
        assert response.status_code == 302 and "/account/confirm" in response.headers["Location"]
    db.session.refresh(target)
    assert target.role == "member" and target.status == "active"
    admin.post(
        "/account/confirm", {"password": "correct horse battery staple 42", "next": "/admin"}
    )
    assert (
        admin.post(f"/admin/members/{target.id}/role", {"role": "coordinator"}).status_code == 302
    )
    db.session.refresh(target)
    assert target.role == "coordinator" and _audited("member.role_changed")


def test_a_coordinator_cannot_suspend_themselves(app, coordinator, make_browser):
    admin = make_browser(coordinator)
    admin.post(f"/admin/members/{coordinator.id}/suspend")
    db.session.refresh(coordinator)
    assert coordinator.status == "active"


def test_removal_shreds_the_members_personal_data(app, members, coordinator, make_browser):
    target = members.make(
        email="to.remove@example.org", name="Remove Me", expertise="Forensic identification"
    )
    old_key_id, old_email_sealed = target.dek_id, target.email_sealed
    their_browser = make_browser(target)
    admin = make_browser(coordinator)
    assert admin.post(f"/admin/members/{target.id}/remove").status_code == 302
    db.session.refresh(target)
    assert target.status == "removed" and target.display_name == "Former member"
    assert (
        target.expertise == "" and target.password_hash == "" and target.totp_secret_sealed is None
    )
    assert db.session.get(DataKey, old_key_id).wrapped is None
    with pytest.raises(envelope.SealError):
        envelope.open_text(old_email_sealed, envelope.context("member", target.id, "email"))
    assert find_member_by_email("to.remove@example.org") is None
    assert their_browser.get("/").status_code == 302
    assert _audited("member.removed")


def test_coordinator_invites_from_the_web_and_can_revoke(app, coordinator, make_browser):
    admin = make_browser(coordinator)
    bad = admin.post("/admin/invites", {"email": "not-an-address", "role": "member"})
    assert bad.status_code == 422 and 'value="not-an-address"' in bad.get_data(as_text=True)
    ok = admin.post(
        "/admin/invites",
        {"email": "web.invite@example.org", "role": "member", "organisation": "Croix-Rouge"},
    )
    assert ok.status_code == 302
    invite = db.session.scalar(select(Invite))
    assert invite.email == "web.invite@example.org" and invite.organisation.name == "Croix-Rouge"
    assert "web.invite@example.org" in admin.get("/admin/invites").get_data(as_text=True)
    assert admin.post(f"/admin/invites/{invite.id}/revoke").status_code == 302
    db.session.refresh(invite)
    assert invite.revoked_at is not None and _audited("invite.revoked")


def test_nomination_vetting_and_approval_records_the_sponsor(
    app, members, coordinator, make_browser
):
    nominator = members.make(name="Nominating Member")
    member_browser = make_browser(nominator)
    response = member_browser.post(
        "/nominate",
        {
            "email": "nominee@example.org",
            "name": "Nominee Person",
            "organisation": "Victim Support Malta",
            "reason": "Ran the family assistance centre after the 2024 attack.",
        },
    )
    assert response.status_code == 302
    nomination = db.session.scalar(select(Nomination))
    assert nomination.status == "pending" and nomination.name == "Nominee Person"
    assert b"Nominee Person" not in nomination.name_sealed
    assert member_browser.get("/admin/vetting").status_code == 403
    admin = make_browser(coordinator)
    queue = admin.get("/admin/vetting").get_data(as_text=True)
    assert "Nominee Person" in queue and "family assistance centre" in queue
    second = members.make(name="Second Sponsor", organisation=members.organisation("Other Org"))
    assert make_browser(second).post(f"/nominations/{nomination.id}/vouch").status_code == 302
    assert admin.post(f"/admin/nominations/{nomination.id}/approve").status_code == 302
    db.session.refresh(nomination)
    invite = db.session.get(Invite, nomination.invite_id)
    assert nomination.status == "approved" and invite.sponsor_id == nominator.id
    assert invite.inviter_id == coordinator.id and invite.email == "nominee@example.org"
    assert _audited("nomination.approved")


def test_declined_nomination_sends_no_invite(app, members, coordinator):
    nomination = vetting.nominate(
        members.make(), email="declined@example.org", name="D", organisation_name="", reason="r"
    )
    vetting.decline(coordinator, nomination)
    db.session.commit()
    assert nomination.status == "declined" and db.session.scalar(select(Invite)) is None
    with pytest.raises(Exception, match="already been decided"):
        vetting.approve(coordinator, nomination)


def test_coordinator_creates_an_organisation(app, coordinator, make_browser):
    admin = make_browser(coordinator)
    ok = admin.post(
        "/admin/organisations",
        {"name": "Parquet national antiterroriste", "country": "FR", "sector": "law_enforcement"},
    )
    assert ok.status_code == 302
    org = db.session.scalar(
        select(Organisation).where(Organisation.name == "Parquet national antiterroriste")
    )
    assert (
        org.country == "FR" and org.sector == "law_enforcement" and _audited("organisation.created")
    )
    dup = admin.post("/admin/organisations", {"name": org.name, "country": "FR", "sector": "ngo"})
    assert dup.status_code == 422 and "exists already" in dup.get_data(as_text=True)


def test_audit_log_page_shows_events_without_secrets(app, members, coordinator, make_browser):
    invites.create_invite("audited@example.org", inviter=coordinator)
    db.session.commit()
    page = make_browser(coordinator).get("/admin/audit").get_data(as_text=True)
    assert "invite.created" in page and "audited@example.org" not in page
    assert all(m for m in db.session.scalars(select(Member)))
