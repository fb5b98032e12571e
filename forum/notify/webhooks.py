"""Webhook endpoints of organisations: register, disable, and queue signed deliveries to them."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member, Organisation
from forum.notify.channels.webhook import allow_list, origin_of, url_problem
from forum.notify.models import WebhookEndpoint
from forum.notify.outbox import enqueue_external
from forum.security import audit


class WebhookError(Exception):
    """A webhook rule was broken; the message is a plain sentence for the user."""


@dataclass(frozen=True)
class OpenEndpoint:
    """An active endpoint with its URL and secret opened, for sending."""

    id: str
    organisation_id: str
    url: str
    secret: str


def _context(endpoint_id: str, column: str) -> str:
    return envelope.context("webhook_endpoint", endpoint_id, column)


def register_endpoint(
    actor: Member, organisation: Organisation, url: str
) -> tuple[WebhookEndpoint, str]:
    """Register an organisation's webhook; returns it and its signing secret (shown once)."""
    if not actor.is_coordinator:
        raise WebhookError("Only coordinators manage webhooks.")
    problem = url_problem(url, allow_list())
    if problem:
        raise WebhookError(problem)
    url = url.strip()
    secret = secrets.token_urlsafe(32)
    key = envelope.new_data_key("webhook")
    endpoint_id = new_id()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        organisation_id=organisation.id,
        dek_id=key.id,
        url_sealed=envelope.seal(key, _context(endpoint_id, "url"), url),
        secret_sealed=envelope.seal(key, _context(endpoint_id, "secret"), secret),
        origin=origin_of(url)[:200],
        is_active=True,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        "webhook.registered",
        actor=actor,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        organisation_id=organisation.id,
    )
    return endpoint, secret


def set_active(actor: Member, endpoint: WebhookEndpoint, active: bool) -> None:
    """Disable (or enable again) an endpoint; disabled endpoints receive nothing."""
    if not actor.is_coordinator:
        raise WebhookError("Only coordinators manage webhooks.")
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


def endpoint_url(endpoint: WebhookEndpoint) -> str:
    """The endpoint's address, opened (coordinators see it on the webhooks page)."""
    return envelope.open_text(endpoint.url_sealed, _context(endpoint.id, "url"))


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
                secret=envelope.open_text(row.secret_sealed, _context(row.id, "secret")),
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


def organisations() -> list[Organisation]:
    """Every organisation, by name (to choose whose webhook this is)."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
