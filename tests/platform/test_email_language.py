"""The fixed words of an e-mail (the link's lead-in, the footer) are in the recipient's language."""

from __future__ import annotations

import flask_babel
from babel import support

from forum.extensions import db
from forum.notify.dispatcher import dispatch_due
from tests.platform.helpers import notify_by_email

POLISH = {
    "Open it in the Exchange:": "Otwórz to w Exchange:",
    "This message only says that something happened; the details stay in the Exchange, "
    "where you will be asked to sign in.\n"
    "You can turn off e-mail notifications in your profile (urgent alerts are always sent).": (
        "Ta wiadomość mówi tylko, że coś się wydarzyło."
    ),
}


class _Polish(support.NullTranslations):
    """A stand-in Polish catalogue (the real one is written later)."""

    def ugettext(self, message: str) -> str:
        return POLISH.get(message, message)

    gettext = ugettext


def _catalogue_by_locale(self: flask_babel.Domain) -> support.NullTranslations:
    locale = flask_babel.get_locale()
    return _Polish() if locale is not None and str(locale) == "pl" else support.NullTranslations()


def test_a_polish_member_gets_the_fixed_words_of_an_email_in_polish(
    app, members, mailbox, monkeypatch
):
    monkeypatch.setattr(flask_babel.Domain, "get_translations", _catalogue_by_locale)
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
    assert "Otwórz to w Exchange:" in polish_body
    assert "Ta wiadomość mówi tylko, że coś się wydarzyło." in polish_body
    assert "Open it in the Exchange:" not in polish_body
    assert "Open it in the Exchange:" in english_body
    assert "Otwórz" not in english_body
