"""Fixtures shared by the web tests: an Exchange holding real objects of every feature, each
with unique canary strings in its confidential fields."""

from __future__ import annotations

import pytest
from flask import Flask

from forum.alerts import services as alert_services
from forum.db import utcnow
from forum.extensions import db
from forum.markup import tlp
from forum.notify.dispatcher import dispatch_due
from forum.threads import services as thread_services
from tests.support.members import Members
from tests.support.web import World, canary


@pytest.fixture
def world(app: Flask, members: Members) -> World:
    email = f"{canary('mail')}@example.org"
    name = f"{canary('first')} {canary('last')}"
    title, body, answer = canary("title"), canary("body"), canary("reply")
    alert_title, city, needs = canary("alert"), canary("city"), canary("needs")

    coordinator = members.coordinator()
    author = members.make(name=name, email=email)
    reader = members.make()
    category = thread_services.ensure_default_categories()[0]
    thread = thread_services.start_thread(
        author=author,
        category=category,
        title=f"Lessons from {title}",
        body=f"What we learned: {body}.",
        label=tlp.AMBER,
    )
    post = thread_services.reply(
        author=reader, thread=thread, body=f"Agreed, {answer}.", pii_confirmed=True
    )
    alert = alert_services.raise_alert(
        author,
        kind="attack",
        title=f"Incident {alert_title}",
        city=city,
        country="BE",
        occurred_at=utcnow(),
        needs=f"Interpreters for {needs}",
        severity="high",
    )
    db.session.commit()
    dispatch_due()
    db.session.commit()
    return World(
        email=email,
        texts=[*name.split(), title, body, answer, alert_title, city, needs],
        known_ids={
            "member_id": author.id,
            "thread_id": thread.id,
            "post_id": post.id,
            "alert_id": alert.id,
            "slug": category.slug,
        },
        readers=[coordinator, author, reader],
    )
