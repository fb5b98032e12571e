"""A member's own account: sessions end at once on the server, the password is asked again
before sensitive changes, profiles are validated, the directory is for members only."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.members import totp
from forum.members.models import MemberSession
from tests.support.accounts import NEW_PASSWORD, fresh_code, give_totp
from tests.support.members import TEST_PASSWORD


def test_password_change_ends_every_other_session_but_this_one(app, members, make_browser):
    member = members.make()
    here, elsewhere = make_browser(member), make_browser(member)
    assert elsewhere.get("/").status_code == 200
    response = here.post(
        "/account/password",
        {"current": TEST_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    db.session.refresh(member)
    assert member.password_hash != "" and NEW_PASSWORD not in member.password_hash


def test_password_change_needs_the_current_password(app, members, make_browser):
    member = members.make()
    here = make_browser(member)
    response = here.post(
        "/account/password",
        {"current": "not my password", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert "current password is not right" in response.get_data(as_text=True)


def test_sign_out_everywhere_else(app, members, make_browser):
    member = members.make()
    here, other, third = make_browser(member), make_browser(member), make_browser(member)
    page = here.get("/account/sessions").get_data(as_text=True)
    assert "This browser" in page
    assert here.post("/account/sessions/end-others").status_code == 302
    assert other.get("/").status_code == 302 and third.get("/").status_code == 302
    assert here.get("/").status_code == 200
    live = db.session.scalars(
        select(MemberSession).where(
            MemberSession.member_id == member.id, MemberSession.ended_at.is_(None)
        )
    ).all()
    assert len(live) == 1


def test_factor_reset_asks_for_the_password_first(app, members, make_browser):
    member = members.make()
    here = make_browser(member)
    # The session was opened long enough ago that the password must be entered again.
    row = db.session.scalars(
        select(MemberSession).where(MemberSession.member_id == member.id)
    ).one()
    row.reauth_at = row.reauth_at.replace(year=row.reauth_at.year - 1)
    db.session.commit()
    response = here.get("/account/two-factor")
    assert response.status_code == 302 and "/account/confirm" in response.headers["Location"]
    wrong = here.post(
        "/account/confirm", {"password": "nope nope nope", "next": "/account/two-factor"}
    )
    assert wrong.status_code == 422
    ok = here.post("/account/confirm", {"password": TEST_PASSWORD, "next": "/account/two-factor"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/account/two-factor"
    assert here.get("/account/two-factor").status_code == 200


def test_factor_reset_switches_secret_and_ends_other_sessions(app, members, make_browser):
    member = members.make()
    old_secret = give_totp(member)
    here, elsewhere = make_browser(member), make_browser(member)
    assert here.post("/account/two-factor", {"start": "1"}).status_code == 302
    db.session.refresh(member)
    new_secret = totp.open_secret(member, "totp_pending")
    assert new_secret and new_secret != old_secret
    assert totp.open_secret(member) == old_secret  # the old app works until confirmed
    done = here.post("/account/two-factor", {"code": fresh_code(new_secret, member)})
    assert done.status_code == 200 and "recovery codes" in done.get_data(as_text=True)
    db.session.refresh(member)
    assert totp.open_secret(member) == new_secret and member.totp_pending_sealed is None
    assert elsewhere.get("/").status_code == 302 and here.get("/").status_code == 200


def test_profile_edit_validates_the_time_zone_and_keeps_the_input(app, members, make_browser):
    member = members.make()
    here = make_browser(member)
    response = here.post(
        "/profile",
        {"name": "New Name", "country": "FR", "timezone": "Mars/Olympus", "expertise": "x"},
    )
    assert response.status_code == 422
    assert 'value="New Name"' in response.get_data(as_text=True)
    ok = here.post(
        "/profile",
        {
            "name": "Nouveau Nom",
            "country": "FR",
            "timezone": "Europe/Paris",
            "expertise": "Consular support, family liaison",
            "languages": "French, English",
            "contact_points": ["FR", "BE"],
        },
    )
    assert ok.status_code == 302
    db.session.refresh(member)
    assert member.display_name == "Nouveau Nom" and member.timezone == "Europe/Paris"
    assert member.contact_points == ["BE", "FR"] and member.is_email_notifications is False


def test_directory_is_for_members_only_and_filters(app, members, browser, make_browser):
    anne = members.make(name="Anne Police", country="FR", expertise="Family liaison officers")
    members.make(name="Bram Ngo", country="NL", expertise="Trauma counselling")
    assert browser.get("/members").status_code == 302
    assert browser.get(f"/members/{anne.id}").status_code == 302
    viewer = make_browser(members.make(name="Viewer"))
    page = viewer.get("/members?country=FR").get_data(as_text=True)
    assert "Anne Police" in page and "Bram Ngo" not in page
    page = viewer.get("/members?expertise=trauma").get_data(as_text=True)
    assert "Bram Ngo" in page and "Anne Police" not in page
    page = viewer.get("/members?q=anne").get_data(as_text=True)
    assert "Anne Police" in page and "Bram Ngo" not in page
    profile = viewer.get(f"/members/{anne.id}")
    assert profile.status_code == 200 and "Family liaison officers" in profile.get_data(
        as_text=True
    )


def test_suspended_members_are_not_in_the_directory(app, members, make_browser):
    gone = members.make(name="Suspended Person")
    gone.status = "suspended"
    db.session.commit()
    viewer = make_browser(members.make())
    assert "Suspended Person" not in viewer.get("/members").get_data(as_text=True)
    assert viewer.get(f"/members/{gone.id}").status_code == 404


def test_coordinator_resets_a_lost_authenticator_and_the_member_enrols_at_sign_in(
    app, members, coordinator, make_browser
):
    member = members.make(email="lost.phone@example.org")
    old_secret = give_totp(member)
    their_browser = make_browser(member)
    admin = make_browser(coordinator)
    assert admin.post(f"/admin/members/{member.id}/reset-two-factor").status_code == 302
    assert their_browser.get("/").status_code == 302  # signed out at once
    db.session.refresh(member)
    assert member.totp_secret_sealed is None and totp.recovery_codes_left(member) == 0

    fresh = make_browser()
    step_one = fresh.post("/sign-in", {"email": member.email, "password": TEST_PASSWORD})
    assert step_one.status_code == 302
    assert fresh.get("/sign-in/code").headers["Location"] == "/sign-in/enrol"
    page = fresh.get("/sign-in/enrol").get_data(as_text=True)
    assert "<svg" in page
    db.session.refresh(member)
    new_secret = totp.open_secret(member, "totp_pending")
    assert new_secret and new_secret != old_secret and new_secret in page
    done = fresh.post("/sign-in/enrol", {"code": fresh_code(new_secret, member)})
    assert done.status_code == 200 and "recovery codes" in done.get_data(as_text=True)
    assert fresh.get("/").status_code == 200
    db.session.refresh(member)
    assert totp.open_secret(member) == new_secret and totp.recovery_codes_left(member) == 10
