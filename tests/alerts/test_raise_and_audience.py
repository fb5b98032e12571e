"""Raising an alert: who it reaches, what it writes, and that nothing leaks in the clear."""

from __future__ import annotations

from sqlalchemy import func, select

from forum.alerts.audience import REGIONS
from forum.alerts.models import Alert, AlertRecipient
from forum.alerts.services import fan_out
from forum.extensions import db
from forum.members.models import Member
from forum.notify.models import Notification, OutboxMessage
from forum.notify.outbox import notification_text
from tests.support.alerts import CANARY


def _recipient_ids(alert: Alert) -> set[str]:
    return set(
        db.session.scalars(
            select(AlertRecipient.member_id).where(AlertRecipient.alert_id == alert.id)
        )
    )


def test_alert_reaches_every_active_member_by_default(members, raise_):
    raiser = members.make()
    others = [members.make(country=c) for c in ("FR", "DE", "US")]
    suspended = members.make()
    suspended.status = "suspended"
    db.session.commit()
    alert = raise_(raiser)
    assert _recipient_ids(alert) == {raiser.id, *(m.id for m in others)}


def test_narrowing_to_a_region_keeps_members_based_there(members, raise_):
    raiser = members.make(country="BE")
    french = members.make(country="FR")
    american = members.make(country="US")
    alert = raise_(raiser, regions=["western_europe"])
    ids = _recipient_ids(alert)
    assert french.id in ids and raiser.id in ids
    assert american.id not in ids
    assert "FR" in REGIONS["western_europe"][1]


def test_narrowing_to_countries_and_expertise(members, raise_):
    raiser = members.make(country="BE")
    legal_nl = members.make(country="NL", expertise="legal aid, compensation")
    psy_nl = members.make(country="NL", expertise="psychosocial support")
    legal_fr = members.make(country="FR", expertise="Legal aid")
    alert = raise_(raiser, countries=["NL"], expertise=["legal aid"])
    ids = _recipient_ids(alert)
    assert legal_nl.id in ids
    assert psy_nl.id not in ids and legal_fr.id not in ids


def test_contact_points_for_named_nationalities_are_always_included(members, raise_):
    raiser = members.make(country="BE")
    italian_contact = members.make(country="IT", contact_point_countries=["IT"])
    italian_other = members.make(country="IT")
    alert = raise_(raiser, countries=["BE"], nationalities=["it", "JP"])
    ids = _recipient_ids(alert)
    assert italian_contact.id in ids
    assert italian_other.id not in ids
    reason = db.session.scalar(
        select(AlertRecipient.reason).where(
            AlertRecipient.alert_id == alert.id, AlertRecipient.member_id == italian_contact.id
        )
    )
    assert reason == "contact_point"


def test_fan_out_writes_one_inapp_row_and_one_email_row_per_member(members, raise_):
    raiser = members.make()
    quiet = members.make()
    quiet.is_email_notifications = False  # urgent alerts ignore the member's e-mail choice
    others = [members.make() for _ in range(5)]
    db.session.commit()
    alert = raise_(raiser)
    everyone = {quiet.id, *(m.id for m in others)}  # the raiser is not asked to answer
    rows = db.session.execute(
        select(Notification.member_id, func.count())
        .where(Notification.event_key == f"alert:{alert.id}:raised")
        .group_by(Notification.member_id)
    ).all()
    assert {m: n for m, n in rows} == {m: 1 for m in everyone}
    emails = db.session.execute(
        select(OutboxMessage.member_id, func.count())
        .where(OutboxMessage.channel == "email", OutboxMessage.link == f"/alerts/{alert.id}")
        .group_by(OutboxMessage.member_id)
    ).all()
    assert {m: n for m, n in emails} == {m: 1 for m in everyone}
    assert all(
        n.is_urgent
        for n in db.session.scalars(select(Notification).where(Notification.link == alert.link))
    )


def test_fan_out_retried_writes_nothing_twice(members, raise_):
    raiser = members.make()
    members.make()
    alert = raise_(raiser)
    before = db.session.scalar(select(func.count()).select_from(Notification))
    outbox_before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    fan_out(
        alert, alert.dek_id, list(db.session.scalars(select(Member).where(Member.id != raiser.id)))
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == outbox_before


def test_title_and_details_are_sealed_and_emails_are_content_free(members, raise_):
    raiser = members.make()
    reader = members.make()
    alert = raise_(raiser)
    assert alert.title == f"Explosion at {CANARY}"
    row = db.session.execute(select(Alert.__table__).where(Alert.id == alert.id)).one()
    assert all(CANARY.encode() not in v for v in row if isinstance(v, bytes))
    assert all(CANARY not in v for v in row if isinstance(v, str))
    for message in db.session.scalars(select(OutboxMessage)):
        assert CANARY not in message.subject + message.body + message.link
        assert message.subject == "Urgent alert raised by the network — sign in to read it"
    note = db.session.scalar(select(Notification).where(Notification.member_id == reader.id))
    assert CANARY in notification_text(note)
    assert CANARY.encode() not in note.text_sealed


def test_the_bell_names_the_country_in_each_members_language_not_its_code(members, raise_):
    """ "… — Brussels, BE" read like a code in the bell; each member reads the country's name
    in her own language (found by the review)."""
    raiser, french, english = members.make(), members.make(), members.make()
    french.locale, english.locale = "fr", "en"
    db.session.commit()
    alert = raise_(raiser)
    assert alert.country == "BE"

    def text_of(member: Member) -> str:
        row = db.session.scalar(
            select(Notification).where(
                Notification.member_id == member.id, Notification.link == alert.link
            )
        )
        return notification_text(row)

    assert text_of(english).endswith(f"— {alert.city}, Belgium")
    assert text_of(french).endswith(f"— {alert.city}, Belgique")
