"""Webhook endpoints of organisations: register, disable, and queue signed deliveries to them."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.errors import Invalid, NotFound
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.notify import policy, recipients
from forum.notify.channels.webhook import allow_list, origin_of, url_problem
from forum.notify.models import WebhookEndpoint
from forum.notify.outbox import enqueue_external
from forum.notify.recipients import Actor, OrganisationRef
from forum.security import audit

MANAGE_REFUSED = _l("Only coordinators manage webhooks.")


class WebhookError(Invalid):
    """A webhook rule was broken; the message is a plain sentence, shown at the address field."""

    def __init__(self, message: str, *, field: str | None = "url") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class OpenEndpoint:
    """An active endpoint with its URL and secret opened, for sending."""

    id: str
    organisation_id: str
    url: str
    secret: str


def register_endpoint(
    actor: Actor, organisation: OrganisationRef | str, url: str
) -> tuple[WebhookEndpoint, str]:
    """Register an organisation's webhook; returns it and its signing secret (shown once)."""
    policy.require_coordinator(actor, MANAGE_REFUSED)
    organisation_id = organisation if isinstance(organisation, str) else organisation.id
    if organisation_id not in dict(recipients.organisations()):
        raise WebhookError(_("Choose an organisation."), field="organisation_id")
    problem = url_problem(url, allow_list())
    if problem:
        raise WebhookError(problem)
    url = url.strip()
    secret = secrets.token_urlsafe(32)
    key = envelope.new_data_key("webhook")
    endpoint_id = new_id()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        organisation_id=organisation_id,
        dek_id=key.id,
        origin=origin_of(url)[:200],
        is_active=True,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    endpoint.seal("url", url)
    endpoint.seal("secret", secret)
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        "webhook.registered",
        actor=actor,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        organisation_id=organisation_id,
    )
    return endpoint, secret


def set_active(actor: Actor, endpoint: WebhookEndpoint | str, active: bool) -> WebhookEndpoint:
    """Disable (or enable again) an endpoint; disabled endpoints receive nothing."""
    policy.require_coordinator(actor, MANAGE_REFUSED)
    if isinstance(endpoint, str):
        found = db.session.get(WebhookEndpoint, endpoint)
        if found is None:
            raise NotFound(_("There is no such webhook."))
        endpoint = found
    endpoint.is_active = active
    endpoint.disabled_at = None if active else utcnow()
    audit.record(
        "webhook.enabled" if active else "webhook.disabled",
        actor=actor,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        organisation_id=endpoint.organisation_id,
    )
    db.session.flush()
    return endpoint


def endpoint_url(endpoint: WebhookEndpoint) -> str:
    """The endpoint's address, opened (coordinators see it on the webhooks page)."""
    return endpoint.open("url")


def all_endpoints() -> list[WebhookEndpoint]:
    """Every endpoint, grouped by organisation, newest first."""
    return list(
        db.session.scalars(
            select(WebhookEndpoint).order_by(
                WebhookEndpoint.organisation_id, WebhookEndpoint.created_at.desc()
            )
        )
    )


def endpoint_secrets(ids: Iterable[str]) -> dict[str, OpenEndpoint]:
    """Active endpoints among `ids`, with URL and secret opened (for the dispatcher)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id.in_(ids), WebhookEndpoint.is_active.is_(True)
        )
    )
    opened = {}
    for row in rows:
        try:
            opened[row.id] = OpenEndpoint(
                id=row.id,
                organisation_id=row.organisation_id,
                url=endpoint_url(row),
                secret=row.open("secret"),
            )
        except envelope.SealError:
            continue
    return opened


def enqueue_webhooks(
    *,
    event_key: str,
    kind: str,
    subject: str,
    link: str,
    urgent: bool = False,
    organisation_ids: Iterable[str] | None = None,
) -> list[str]:
    """Queue one content-free delivery per active endpoint (optionally of some organisations)."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.is_active.is_(True))
    if organisation_ids is not None:
        query = query.where(WebhookEndpoint.organisation_id.in_(list(organisation_ids)))
    return [
        enqueue_external(
            idempotency_key=f"{event_key}:{endpoint.id}:webhook",
            channel="webhook",
            kind=kind,
            subject=subject,
            body=subject,
            link=link,
            target=endpoint.id,
            urgent=urgent,
        )
        for endpoint in db.session.scalars(query)
    ]


def organisations() -> list[tuple[str, str]]:
    """Every organisation as (id, name), by name (to choose whose webhook this is)."""
    return recipients.organisations()


def listing() -> list[tuple[WebhookEndpoint, str, str]]:
    """Every endpoint with its organisation's name and its opened address (coordinators)."""
    names = dict(organisations())
    return [(e, names.get(e.organisation_id, "?"), endpoint_url(e)) for e in all_endpoints()]
