"""Who notify talks about, without knowing the members feature: small protocols, and the
resolvers members hands to notify at start (the way jobs are handed to the scheduler).

`init_app(app, addresses=..., organisations=...)` is called once by create_app:
- `addresses(ids) -> {id: address}`: the e-mail addresses of those members who may still be
  mailed (active ones), read when a message is sent, never stored in the outbox;
- `organisations() -> [(id, name), ...]`: the organisations a webhook may belong to, by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from flask import Flask, current_app

ADDRESSES_KEY = "exchange.recipient_addresses"
ORGANISATIONS_KEY = "exchange.organisations"

AddressResolver = Callable[[Iterable[str]], dict[str, str]]
OrganisationLister = Callable[[], list[tuple[str, str]]]


class Recipient(Protocol):
    """Someone notify writes to: an id, whether they are active, their old e-mail choice (the
    default of every category) and their time zone (for quiet hours)."""

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def is_email_notifications(self) -> bool: ...

    @property
    def timezone(self) -> str: ...


class Actor(Protocol):
    """Someone who acts on notify's pages: an id and whether they coordinate."""

    @property
    def id(self) -> str: ...

    @property
    def is_coordinator(self) -> bool: ...


class OrganisationRef(Protocol):
    """An organisation as notify needs it: its id only."""

    @property
    def id(self) -> str: ...


def init_app(app: Flask, *, addresses: AddressResolver, organisations: OrganisationLister) -> None:
    """Hand notify the resolvers it needs from the members feature."""
    app.extensions[ADDRESSES_KEY] = addresses
    app.extensions[ORGANISATIONS_KEY] = organisations


def _handed(key: str) -> Callable[..., object]:
    try:
        handed: Callable[..., object] = current_app.extensions[key]
    except KeyError:
        raise RuntimeError(
            f"notify was not handed {key!r}: create_app must call forum.notify.recipients.init_app"
        ) from None
    return handed


def addresses(ids: Iterable[str]) -> dict[str, str]:
    """The e-mail addresses of those of these members who may be mailed now, by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    return _handed(ADDRESSES_KEY)(wanted)  # type: ignore[return-value]


def organisations() -> list[tuple[str, str]]:
    """Every organisation as (id, name), by name."""
    return list(_handed(ORGANISATIONS_KEY)())  # type: ignore[call-overload]
