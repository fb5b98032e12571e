"""A push says its few fixed words in the member's language: the text, and for an alert to
answer, the titles of its two actions and what the phone says after a tap (the service worker
has no catalogue of its own)."""

from __future__ import annotations

import time
from pathlib import Path

from babel.messages.pofile import read_po

from forum.extensions import db
from forum.notify.dispatcher import dispatch_due
from tests.support.alerts import raise_alert


def _polish(message: str) -> str:
    """What the Polish catalogue says, read from its .po with Babel's reader (the app serves
    the compiled .mo)."""
    path = Path(__file__).resolve().parents[2] / "forum/translations/pl/LC_MESSAGES/messages.po"
    with path.open("rb") as po:
        found = read_po(po, locale="pl").get(message)
    assert found is not None and found.string, message
    return str(found.string)


def _drain(limit_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        result = dispatch_due()
        db.session.commit()
        if result.claimed == 0:
            return
    raise AssertionError("the outbox did not drain in time")


def test_an_alerts_push_is_in_each_members_language(app, members, push_service, add_device):
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
    assert polish.payload["body"] == _polish("Urgent alert — open the Exchange")
    assert polish.payload["actions"] == [
        {"action": "seen", "title": _polish("Seen")},
        {"action": "can_help", "title": _polish("I can help")},
    ]
    assert polish.payload["said"] == {
        "sent": _polish("Your answer was sent."),
        "waiting": _polish(
            "No connection: your answer will be sent when this phone is online again."
        ),
        "refused": _polish("Your answer could not be sent. Open the alert to answer there."),
    }
    assert polish.payload["said"]["sent"] != "Your answer was sent."
    assert english.payload["body"] == "Urgent alert — open the Exchange"
    assert english.payload["said"]["sent"] == "Your answer was sent."
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
