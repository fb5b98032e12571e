"""Issue 9 item 17: account recovery. "Forgot your password?" e-mails a single-use, hashed,
30-minute link; with the authenticator code (or a recovery code) it sets a new password and
ends every session; the answer is the same whether or not the address exists; it is rate
limited. A member who lost both is recovered only by a coordinator, after re-vetting, audited.
Content-free security e-mails, read from the real SMTP server, tell the member what happened."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from forum.db import utcnow
from forum.extensions import db
from forum.members.models import MemberSession, RecoveryLink
from forum.members.recovery import token_hash
from forum.notify.dispatcher import dispatch_due
from forum.security.audit import AuditEvent
from tests.support.accounts import MemberBrowser, fresh_code, give_totp, sign_in
from tests.support.members import TEST_PASSWORD

NEW = "plum orchard lantern 1987"


def _mail_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _link_from(mailbox, address: str) -> str:
    # The dispatcher works in its own session; end this test's read first, or the test's next
    # write would start from a snapshot older than the dispatcher's commit (SQLite refuses it).
    db.session.commit()
    dispatch_due()
    texts = [_mail_text(m) for m in mailbox.to(address)]
    links = [re.search(r"(/sign-in/reset/[\w-]+)", t) for t in texts]
    found = [m.group(1) for m in links if m]
    assert found, "a reset link was e-mailed"
    return found[-1]


def test_forgot_password_same_answer_and_a_single_use_link(app, members, mailbox, make_browser):
    member = members.make(email="forgetful@example.org", name="Fay Forgetful")
    secret = give_totp(member)
    signed_in_elsewhere = make_browser(member)
    browser = MemberBrowser(app.test_client())
    known = browser.post("/sign-in/forgot", {"email": "forgetful@example.org"})
    unknown = MemberBrowser(app.test_client()).post(
        "/sign-in/forgot", {"email": "nobody@example.org"}
    )
    assert known.status_code == unknown.status_code == 200
    strip = lambda page: re.sub(r'name="csrf[^>]+>', "", page.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(unknown)

    link = _link_from(mailbox, "forgetful@example.org")
    assert not mailbox.to("nobody@example.org")
    token = link.rsplit("/", 1)[1]
    row = db.session.scalar(select(RecoveryLink).where(RecoveryLink.member_id == member.id))
    assert row.token_hash == token_hash(token) and token not in row.token_hash
    assert timedelta(minutes=29) < row.expires_at - row.created_at <= timedelta(minutes=30)

    assert browser.get(link).status_code == 303
    page = browser.get("/sign-in/reset")
    assert page.status_code == 200 and token not in page.get_data(as_text=True)
    wrong = browser.post("/sign-in/reset", {"code": "000000", "new": NEW, "confirm": NEW})
    assert wrong.status_code == 422 and "code is not right" in wrong.get_data(as_text=True)
    mailbox.clear()
    done = browser.post(
        "/sign-in/reset", {"code": fresh_code(secret, member), "new": NEW, "confirm": NEW}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/sign-in"
    # Every session ended, the old password is gone, the new one works.
    assert signed_in_elsewhere.get("/").status_code == 302
    live = db.session.scalars(
        select(MemberSession).where(
            MemberSession.member_id == member.id, MemberSession.ended_at.is_(None)
        )
    ).all()
    assert live == []
    assert (
        sign_in(MemberBrowser(app.test_client()), member.email, TEST_PASSWORD, None).status_code
        == 422
    )
    assert sign_in(MemberBrowser(app.test_client()), member.email, NEW, None).status_code == 302
    # The link works once.
    again = MemberBrowser(app.test_client())
    again.get(link)
    assert again.get("/sign-in/reset").status_code == 410
    # A content-free security e-mail says the password changed.
    dispatch_due()
    [notice] = [m for m in mailbox.to(member.email) if "password was changed" in str(m["Subject"])]
    body = _mail_text(notice)
    assert NEW not in body and "/sign-in/reset/" not in body


def test_reset_link_expires_after_thirty_minutes(app, members, mailbox):
    member = members.make(email="late@example.org")
    give_totp(member)
    browser = MemberBrowser(app.test_client())
    browser.post("/sign-in/forgot", {"email": member.email})
    link = _link_from(mailbox, member.email)
    row = db.session.scalar(select(RecoveryLink).where(RecoveryLink.member_id == member.id))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    browser.get(link)
    assert browser.get("/sign-in/reset").status_code == 410


def test_forgot_password_is_rate_limited_per_address(app, members, mailbox):
    member = members.make(email="flooded@example.org")
    codes = [
        MemberBrowser(app.test_client())
        .post(
            "/sign-in/forgot",
            {"email": member.email},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        .status_code
        for n in range(6)
    ]
    assert codes[:3] == [200] * 3 and set(codes[3:]) == {429}
    dispatch_due()
    assert len(mailbox.to(member.email)) == 3


def test_a_recovery_code_can_stand_in_for_the_authenticator(app, members, mailbox):
    from forum.members import totp

    member = members.make(email="codes@example.org")
    give_totp(member)
    codes = totp.new_recovery_codes(member)
    db.session.commit()
    browser = MemberBrowser(app.test_client())
    browser.post("/sign-in/forgot", {"email": member.email})
    browser.get(_link_from(mailbox, member.email))
    mailbox.clear()
    done = browser.post("/sign-in/reset", {"code": codes[0], "new": NEW, "confirm": NEW})
    assert done.status_code == 302
    dispatch_due()
    subjects = [str(m["Subject"]) for m in mailbox.to(member.email)]
    assert any("recovery code was used" in s for s in subjects)
    assert any("password was changed" in s for s in subjects)


def test_coordinator_recovers_a_member_who_lost_both_after_re_vetting(
    app, members, mailbox, make_browser
):
    coordinator = members.coordinator(name="Clara Coordinator")
    voucher = members.make(email="voucher@example.org", name="Vic Voucher")
    member = members.make(email="lost.everything@example.org", name="Lou Lost")
    give_totp(member)
    lost_session = make_browser(member)
    plain = make_browser(voucher)
    assert plain.get(f"/admin/members/{member.id}/recover").status_code == 403
    admin = make_browser(coordinator)
    assert admin.post("/account/confirm", {"password": TEST_PASSWORD}).status_code == 302
    refused = admin.post(
        f"/admin/members/{member.id}/recover", {"voucher": coordinator.email, "confirmed": "y"}
    )
    assert refused.status_code == 422  # a coordinator cannot vouch for the person themselves
    done = admin.post(
        f"/admin/members/{member.id}/recover", {"voucher": voucher.email, "confirmed": "y"}
    )
    assert done.status_code == 302
    assert lost_session.get("/").status_code == 302  # every session ended
    row = db.session.scalar(
        select(RecoveryLink).where(
            RecoveryLink.member_id == member.id, RecoveryLink.kind == "setup"
        )
    )
    assert row.issued_by_id == coordinator.id and row.vouched_by_id == voucher.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "member.recovered"))
    assert event.actor_id == coordinator.id and event.target_id == member.id

    # The member sets a password with the single-use link (no code: the authenticator is gone),
    # then enrols a new authenticator at sign-in.
    browser = MemberBrowser(app.test_client())
    browser.get(_link_from(mailbox, member.email))
    assert browser.post("/sign-in/reset", {"new": NEW, "confirm": NEW}).status_code == 302
    step = sign_in(browser, member.email, NEW, None)
    assert step.status_code == 302
    assert browser.get("/sign-in/code").headers["Location"] == "/sign-in/enrol"


def test_new_device_and_new_role_send_content_free_notices(app, members, mailbox, make_browser):
    coordinator = members.coordinator()
    member = members.make(email="noticed@example.org")
    secret = give_totp(member)
    browser = MemberBrowser(app.test_client())
    where = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    browser.post("/sign-in", {"email": member.email, "password": TEST_PASSWORD}, **where)
    browser.post("/sign-in/code", {"code": fresh_code(secret, member)}, **where)
    admin = make_browser(coordinator)
    admin.post("/account/confirm", {"password": TEST_PASSWORD})
    admin.post(f"/admin/members/{member.id}/role", {"role": "coordinator"})
    dispatch_due()
    subjects = [str(m["Subject"]) for m in mailbox.to(member.email)]
    assert any("new device" in s for s in subjects)
    assert any("role changed" in s for s in subjects)
    for message in mailbox.to(member.email):
        text = _mail_text(message)
        assert "203.0.113" not in text and "Werkzeug" not in text


def test_a_reset_link_stops_working_once_the_password_is_changed_another_way(
    app, members, mailbox, make_browser
):
    member = members.make(email="changer@example.org", name="Cai Changer")
    give_totp(member)
    MemberBrowser(app.test_client()).post("/sign-in/forgot", {"email": "changer@example.org"})
    link = _link_from(mailbox, "changer@example.org")
    signed_in = make_browser(member)
    changed = signed_in.post(
        "/account/password", {"current": TEST_PASSWORD, "new": NEW, "confirm": NEW}
    )
    assert changed.status_code in (302, 303)
    stranger = MemberBrowser(app.test_client())
    stranger.get(link)
    assert stranger.get("/sign-in/reset").status_code == 410
