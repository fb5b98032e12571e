"""A push says its few fixed words in the member's language: the text, and for an alert to
answer, the titles of its two actions (the service worker has no catalogue of its own)."""

from __future__ import annotations

import time

import flask_babel
from babel import support

from forum.extensions import db
from forum.notify.dispatcher import dispatch_due
from tests.support.alerts import raise_alert

POLISH = {
    "Seen": "Widziane",
    "I can help": "Mogę pomóc",
    "Urgent alert — open the Exchange": "Pilny alarm — otwórz Exchange",
}


class _Polish(support.NullTranslations):
    """A stand-in Polish catalogue (the real one is written later)."""

    def ugettext(self, message: str) -> str:
        return POLISH.get(message, message)

    gettext = ugettext


def _catalogue_by_locale(self: flask_babel.Domain) -> support.NullTranslations:
    locale = flask_babel.get_locale()
    return _Polish() if locale is not None and str(locale) == "pl" else support.NullTranslations()


def _drain(limit_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        result = dispatch_due()
        db.session.commit()
        if result.claimed == 0:
            return
    raise AssertionError("the outbox did not drain in time")


def test_an_alerts_push_is_in_each_members_language(
    app, members, push_service, add_device, monkeypatch
):
    monkeypatch.setattr(flask_babel.Domain, "get_translations", _catalogue_by_locale)
    raiser = members.make()
    piotr, ben = members.make(), members.make()
    piotr.locale, ben.locale = "pl", "en"
    db.session.commit()
    piotr_phone, _ = add_device(piotr)
    ben_phone, _ = add_device(ben)

    raise_alert(raiser)
    _drain()

    [polish] = push_service.messages_for(piotr_phone)
    [english] = push_service.messages_for(ben_phone)
    assert polish.payload["body"] == "Pilny alarm — otwórz Exchange"
    assert polish.payload["actions"] == [
        {"action": "seen", "title": "Widziane"},
        {"action": "can_help", "title": "Mogę pomóc"},
    ]
    assert english.payload["body"] == "Urgent alert — open the Exchange"
    assert english.payload["actions"] == [
        {"action": "seen", "title": "Seen"},
        {"action": "can_help", "title": "I can help"},
    ]
