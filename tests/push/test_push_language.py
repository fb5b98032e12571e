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


def test_an_urgent_push_is_the_same_size_whatever_the_members_language(
    app, members, push_service, add_device
):
    """The push service sees each message's length: unpadded it told the member's language
    (en 416, fr 419, pl 433, de 435 bytes for an urgent alert) and the kind of event. The
    padding is trailing spaces, so the service worker's event.data.json() still reads it."""
    raiser = members.make()
    phones = {}
    for language in ("en", "de", "pl", "fr", "nl", "es", "it"):
        member = members.make()
        member.locale = language
        db.session.commit()
        phones[language], _ = add_device(member)
    raise_alert(raiser)
    _drain()
    messages = {language: push_service.messages_for(phone)[0] for language, phone in phones.items()}
    assert len({len(m.body) for m in messages.values()}) == 1
    assert len({m.payload["body"] for m in messages.values()}) == len(phones)  # each its own
    assert all(m.plaintext.endswith(b" ") for m in messages.values())
    assert all("user-agent" not in m.headers for m in messages.values())
