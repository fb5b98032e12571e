"""The fixed words of an e-mail (the link's lead-in, the footer) are in the recipient's language:
the member's choice, else the language their browser spoke at their last sign-in; an
invitation in the language it was sent in, with a footer for someone who is not a member. The
expected words are read from the catalogues with Babel's .po reader."""

from __future__ import annotations

from functools import cache

from babel.messages.pofile import read_po

from forum.extensions import db
from forum.i18n import TRANSLATIONS
from forum.members import invites
from forum.notify.channels.email import FOOTER, FOOTER_GUEST, OPEN_IT
from forum.notify.dispatcher import dispatch_due
from tests.platform.helpers import notify_by_email


@cache
def _said(code: str, english: str) -> str:
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        message = read_po(handle).get(english)
    assert message is not None and message.string
    return str(message.string)


def test_a_polish_member_gets_the_fixed_words_of_an_email_in_polish(app, members, mailbox):
    piotr = members.make(email="piotr@example.org")
    alice = members.make(email="alice@example.org")
    piotr.locale = "pl"
    alice.locale = "en"
    db.session.commit()
    notify_by_email([piotr, alice])
    assert dispatch_due().sent == 2
    (polish,) = mailbox.to("piotr@example.org")
    (english,) = mailbox.to("alice@example.org")
    polish_body = polish.get_body().get_content()
    english_body = english.get_body().get_content()
    assert _said("pl", OPEN_IT._args[0]) in polish_body
    assert _said("pl", FOOTER._args[0]).splitlines()[0] in polish_body
    assert str(OPEN_IT._args[0]) not in polish_body
    assert polish["Content-Language"] == "pl" and english["Content-Language"] == "en"
    assert OPEN_IT._args[0] in english_body and _said("pl", OPEN_IT._args[0]) not in english_body


def test_a_member_who_follows_the_browser_is_written_to_in_its_language(app, members, mailbox):
    claire = members.make(email="claire@example.org")
    claire.locale = ""  # "Follow my browser"
    claire.seen_locale = "fr"  # what her browser spoke at her last sign-in
    db.session.commit()
    notify_by_email([claire])
    assert dispatch_due().sent == 1
    (message,) = mailbox.to("claire@example.org")
    assert _said("fr", OPEN_IT._args[0]) in message.get_body().get_content()
    assert message["Content-Language"] == "fr"


def test_a_sign_in_remembers_the_language_the_browser_spoke(app, members, browser):
    from tests.support.accounts import fresh_code, give_totp
    from tests.support.members import TEST_PASSWORD

    member = members.make(email="seen@example.org")
    secret = give_totp(member)
    db.session.commit()
    headers = {"Accept-Language": "nl-BE,nl;q=0.9"}
    browser.post(
        "/sign-in", {"email": "seen@example.org", "password": TEST_PASSWORD}, headers=headers
    )
    browser.post("/sign-in/code", {"code": fresh_code(secret, member)}, headers=headers)
    db.session.refresh(member)
    assert member.seen_locale == "nl" and member.locale == ""


def test_an_invitation_speaks_the_inviters_language_with_a_footer_for_a_newcomer(
    app, members, mailbox
):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        invites.create_invite("newcomer@example.org")
        db.session.commit()
    assert dispatch_due().sent == 1
    (message,) = mailbox.to("newcomer@example.org")
    body = message.get_body().get_content()
    assert message["Content-Language"] == "de"
    assert _said("de", OPEN_IT._args[0]) in body
    assert _said("de", FOOTER_GUEST._args[0]) in body
    assert "in your profile" not in body and _said("de", FOOTER._args[0])[:40] not in body
