"""Member services without a request: second-factor rules, coordinators' guards, profiles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.db import utcnow
from forum.errors import Invalid, NotAllowed
from forum.extensions import db
from forum.members import account, admin, auth, totp
from forum.members.jobs import purge_sessions
from forum.members.models import MemberSession, RecoveryCode
from forum.members.sessions import start_session
from tests.support.accounts import code_for_step, current_step, give_totp
from tests.support.members import TEST_PASSWORD


def test_totp_accepts_the_neighbouring_steps_only(app, members):
    member = members.make()
    secret = give_totp(member)
    now = current_step()
    assert totp.matching_step(secret, code_for_step(secret, now - 1)) == now - 1
    assert totp.matching_step(secret, code_for_step(secret, now + 1)) == now + 1
    assert totp.matching_step(secret, code_for_step(secret, now - 3)) is None
    assert totp.matching_step(secret, "12345") is None


def test_totp_code_is_claimed_once_even_by_two_checks(app, members):
    member = members.make()
    secret = give_totp(member)
    code = code_for_step(secret, current_step())
    assert totp.verify_totp(member, code) is True
    assert totp.verify_totp(member, code) is False


def test_recovery_codes_are_stored_as_keyed_hashes_and_spent_once(app, members):
    member = members.make()
    codes = totp.new_recovery_codes(member)
    db.session.commit()
    hashes = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.member_id == member.id)
    ).all()
    assert len(hashes) == 10 and len(set(hashes)) == 10
    assert totp.use_recovery_code(member, codes[0].replace("-", " ").upper()) is True
    assert totp.use_recovery_code(member, codes[0]) is False
    assert totp.recovery_codes_left(member) == 9
    renewed = totp.new_recovery_codes(member)
    assert totp.use_recovery_code(member, codes[1]) is False  # the old set is gone
    assert totp.use_recovery_code(member, renewed[1]) is True


def test_password_check_costs_a_hash_for_unknown_addresses_and_says_nothing(app, members):
    members.make(email="known@example.org")
    assert auth.check_password("unknown@example.org", TEST_PASSWORD) is None
    assert auth.check_password("known@example.org", "wrong password!") is None
    assert auth.check_password("KNOWN@example.org", TEST_PASSWORD) is not None


def test_a_coordinator_cannot_demote_suspend_or_remove_themselves(app, members):
    first, second = members.coordinator(), members.coordinator()
    with pytest.raises(Invalid, match="your own account"):
        admin.change_role(first, first, "member")
    with pytest.raises(Invalid, match="your own account"):
        admin.suspend(first, first)
    with pytest.raises(Invalid, match="your own account"):
        admin.remove(first, first)
    admin.change_role(first, second, "member")  # another coordinator may
    db.session.commit()
    assert second.role == "member" and first.role == "coordinator"


def test_members_cannot_use_coordinator_services(app, members):
    member, target = members.make(), members.make()
    for action in (admin.suspend, admin.remove, admin.reset_second_factor):
        with pytest.raises(NotAllowed):
            action(member, target)
    with pytest.raises(NotAllowed):
        admin.create_organisation(member, name="X", country="BE", sector="ngo")


def test_role_change_ends_the_members_sessions(app, members, make_browser):
    coordinator, target = members.coordinator(), members.make()
    browser = make_browser(target)
    admin.change_role(coordinator, target, "coordinator")
    db.session.commit()
    assert browser.get("/").status_code == 302


def test_profile_rejects_unknown_countries_and_time_zones(app, members):
    member = members.make()
    base = dict(
        name="N",
        country="BE",
        expertise="",
        languages="",
        timezone="Europe/Brussels",
        contact_point_countries=[],
        is_email_notifications=True,
    )
    with pytest.raises(Invalid, match="time zone"):
        account.update_profile(member, account.ProfileChange(**{**base, "timezone": "Nowhere/X"}))
    with pytest.raises(Invalid, match="country"):
        account.update_profile(member, account.ProfileChange(**{**base, "country": "XX"}))
    with pytest.raises(Invalid, match="Contact point"):
        account.update_profile(
            member, account.ProfileChange(**{**base, "contact_point_countries": ["ZZ"]})
        )


def test_sessions_past_their_timeouts_are_ended_by_the_sweep(app, members):
    member = members.make()
    start_session(member)
    row = db.session.scalars(select(MemberSession)).one()
    row.last_seen_at = utcnow() - timedelta(hours=3)
    db.session.commit()
    purge_sessions()
    db.session.commit()
    db.session.refresh(row)
    assert row.ended_at is not None and row.end_reason == "timeout"
