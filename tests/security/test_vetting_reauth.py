"""Issue 9 item 14: every grant of privilege asks for the password again (as role changes do).

Each route is tried twice by the same coordinator: with a stale re-authentication it is sent to
/account/confirm and nothing changes; after confirming the password it works.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.members import admin, sponsors, totp, vetting
from forum.members.models import Invite, Member, MemberSession, Nomination
from forum.notify.models import WebhookEndpoint
from tests.support.members import TEST_PASSWORD


def _stale(member: Member) -> None:
    """Make the member's sessions' last password entry a year old."""
    for row in db.session.scalars(
        select(MemberSession).where(MemberSession.member_id == member.id)
    ):
        row.reauth_at = row.reauth_at.replace(year=row.reauth_at.year - 1)
    db.session.commit()


def _sent_to_confirm(response: Any) -> bool:
    return response.status_code == 302 and "/account/confirm" in response.headers["Location"]


def _confirm(browser: Any) -> None:
    response = browser.post("/account/confirm", {"password": TEST_PASSWORD, "next": "/admin"})
    assert response.status_code == 302 and not _sent_to_confirm(response)


def _invite(members: Any, coordinator: Member) -> tuple[str, dict[str, str], Any]:
    data = {"email": "new.coordinator@example.org", "role": "coordinator", "organisation": ""}

    def done() -> bool:
        return db.session.scalars(select(Invite)).first() is not None

    return "/admin/invites", data, done


def _reinstate(members: Any, coordinator: Member) -> tuple[str, dict[str, str], Any]:
    target = members.make()
    admin.suspend(coordinator, target)
    db.session.commit()

    def done() -> bool:
        db.session.refresh(target)
        return target.status == "active"

    return f"/admin/members/{target.id}/reinstate", {}, done


def _reset_factor(members: Any, coordinator: Member) -> tuple[str, dict[str, str], Any]:
    target = members.make()
    totp.seal_secret(target, totp.new_secret())
    db.session.commit()

    def done() -> bool:
        db.session.refresh(target)
        return target.totp_secret_sealed is None

    return f"/admin/members/{target.id}/reset-two-factor", {}, done


def _approve(members: Any, coordinator: Member) -> tuple[str, dict[str, str], Any]:
    first = members.make(organisation=members.organisation("Org One"))
    second = members.make(organisation=members.organisation("Org Two"))
    nomination = vetting.nominate(
        first, email="nominee@example.org", name="Nia Nominee", organisation_name="", reason="Known"
    )
    sponsors.vouch(second, nomination)
    db.session.commit()

    def done() -> bool:
        return db.session.get(Nomination, nomination.id).status == "approved"

    return f"/admin/nominations/{nomination.id}/approve", {}, done


def _webhook(members: Any, coordinator: Member) -> tuple[str, dict[str, str], Any]:
    organisation = members.organisation("Police Federale")
    data = {"organisation_id": organisation.id, "url": "https://hooks.example.org/in"}

    def done() -> bool:
        return db.session.scalars(select(WebhookEndpoint)).first() is not None

    return "/notifications/webhooks", data, done


@pytest.mark.parametrize(
    "arrange",
    [_invite, _reinstate, _reset_factor, _approve, _webhook],
    ids=["invite", "reinstate", "reset-two-factor", "approve-nomination", "webhook"],
)
def test_a_grant_of_privilege_needs_a_recent_password(app, members, make_browser, arrange):
    coordinator = members.coordinator()
    members.coordinator()  # not the last coordinator
    url, data, done = arrange(members, coordinator)
    browser = make_browser(coordinator)
    _stale(coordinator)
    assert _sent_to_confirm(browser.post(url, data))
    assert not done()
    _confirm(browser)
    response = browser.post(url, data)
    assert not _sent_to_confirm(response)
    assert response.status_code in (201, 302), response.get_data(as_text=True)
    assert done()


def test_the_invite_and_webhook_pages_still_open_without_a_recent_password(
    app, members, make_browser
):
    coordinator = members.coordinator()
    browser = make_browser(coordinator)
    _stale(coordinator)
    assert browser.get("/admin/invites").status_code == 200
    assert browser.get("/notifications/webhooks").status_code == 200
