"""Issue 9 item 20: a nomination becomes an invite only when members of two different
organisations vouch for the nominee (the nominator first) and a coordinator approves; the
sponsors are recorded (who, organisation, when) and shown in the queue."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from forum.config import ConfigError, load_settings
from forum.extensions import db
from forum.members import vetting
from forum.members.models import Invite, Nomination
from forum.members.vetting_models import NominationSponsor
from forum.security.audit import AuditEvent

REASON = "Ran the family assistance centre after the 2024 attack."


def _nomination(members: Any, nominator: Any, email: str = "nominee@example.org") -> Nomination:
    nomination = vetting.nominate(
        nominator,
        email=email,
        name="Nia Nominee",
        organisation_name="Victim Support Malta",
        reason=REASON,
    )
    db.session.commit()
    return nomination


def test_one_organisation_is_not_enough_and_two_make_it_approvable(app, members, make_browser):
    red_cross, police = members.organisation("Red Cross BE"), members.organisation("Police NL")
    nominator = members.make(name="Nadia Nominator", organisation=red_cross)
    colleague = members.make(name="Colin Colleague", organisation=red_cross)
    outsider = members.make(name="Olga Outsider", organisation=police)
    coordinator = members.coordinator()
    nomination = _nomination(members, nominator)
    admin = make_browser(coordinator)

    admin.post(f"/admin/nominations/{nomination.id}/approve")
    queue = admin.get("/admin/vetting").get_data(as_text=True)
    assert "needs sponsors from 2 different organisations and has 1" in queue
    assert db.session.get(Nomination, nomination.id).status == "pending"
    assert db.session.scalar(select(Invite)) is None

    same_org = make_browser(colleague)
    same_org.post(f"/nominations/{nomination.id}/vouch")
    assert "the next sponsor must come from another organisation" in same_org.get(
        "/nominations"
    ).get_data(as_text=True)

    assert make_browser(outsider).post(f"/nominations/{nomination.id}/vouch").status_code == 302
    told = admin.get("/notifications").get_data(as_text=True)
    assert "The nomination of Nia Nominee has its sponsors and awaits your decision." in told
    queue = admin.get("/admin/vetting").get_data(as_text=True)
    assert "Nadia Nominator" in queue and "Olga Outsider" in queue
    assert "Red Cross BE" in queue and "Police NL" in queue and "Colin Colleague" not in queue
    assert admin.post(f"/admin/nominations/{nomination.id}/approve").status_code == 302
    assert db.session.get(Nomination, nomination.id).status == "approved"
    invite = db.session.scalar(select(Invite))
    assert invite is not None and invite.email == "nominee@example.org"
    recorded = db.session.scalars(
        select(NominationSponsor).where(NominationSponsor.nomination_id == nomination.id)
    ).all()
    assert {(s.member_id, s.organisation_id) for s in recorded} == {
        (nominator.id, red_cross.id),
        (outsider.id, police.id),
    }
    assert all(s.created_at is not None for s in recorded)
    vouched = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "nomination.vouched")
    ).all()
    assert {e.actor_id for e in vouched} == {nominator.id, outsider.id}


def test_a_member_cannot_vouch_twice_or_for_themselves(app, members, make_browser):
    nominator = members.make(organisation=members.organisation("Org A"))
    nominee = members.make(email="me@example.org", organisation=members.organisation("Org B"))
    nomination = _nomination(members, nominator, email="me@example.org")
    mine = make_browser(nominator)
    mine.post(f"/nominations/{nomination.id}/vouch")
    assert "You have already vouched for this person." in mine.get("/nominations").get_data(
        as_text=True
    )
    theirs = make_browser(nominee)
    assert "Nia Nominee" not in theirs.get("/nominations").get_data(as_text=True)
    theirs.post(f"/nominations/{nomination.id}/vouch")
    assert db.session.scalars(select(NominationSponsor)).all() != []
    assert {s.member_id for s in db.session.scalars(select(NominationSponsor))} == {nominator.id}


def test_the_vouching_page_shows_name_and_organisation_but_no_address_or_reason(
    app, members, make_browser
):
    nominator = members.make(name="Nadia Nominator", organisation=members.organisation("Org A"))
    _nomination(members, nominator)
    page = make_browser(members.make(organisation=members.organisation("Org B"))).get(
        "/nominations"
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nia Nominee" in text and "Victim Support Malta" in text and "Nadia Nominator" in text
    assert "nominee@example.org" not in text and REASON not in text
    assert "I vouch for Nia Nominee" in text


def test_the_number_of_organisations_is_a_setting(app, members):
    current_app.config["EXCHANGE"]["vetting"]["sponsors_required"] = 3
    coordinator = members.coordinator()
    nominator = members.make(organisation=members.organisation("Org A"))
    nomination = _nomination(members, nominator)
    from forum.members import sponsors

    sponsors.vouch(members.make(organisation=members.organisation("Org B")), nomination)
    with pytest.raises(Exception, match="needs sponsors from 3 different organisations"):
        vetting.approve(coordinator, nomination)
    sponsors.vouch(members.make(organisation=members.organisation("Org C")), nomination)
    vetting.approve(coordinator, nomination)
    assert nomination.status == "approved"
    secret = "s3cret-" + "abcdefghijklmnopqrstuvwxyz0123456789"
    with pytest.raises(ConfigError, match="vetting.sponsors_required"):
        load_settings(
            overrides={"app": {"secret_key": secret}, "vetting": {"sponsors_required": 0}},
            environ={},
        )
