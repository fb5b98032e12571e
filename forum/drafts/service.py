"""Saving, opening and discarding a member's drafts; the forms that keep drafts."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from forum.crypto import envelope
from forum.crypto.models import DataKey
from forum.db import new_id, utcnow
from forum.drafts.models import Draft
from forum.extensions import db

MAX_TEXT = 100_000
MAX_DRAFTS = 50
KEY_PATTERN = re.compile(r"^[a-z][a-z-]{0,30}(:[0-9a-f]{32})?$")


class DraftError(ValueError):
    """A draft that cannot be kept; the message is a plain sentence."""


@dataclass(frozen=True)
class DraftForm:
    """A form whose text is kept as a draft: the POST endpoint, its text field, how its draft
    key and its page (a GET address to come back to) follow from the URL's arguments."""

    endpoint: str
    field: str
    key: Callable[[Mapping[str, Any]], str]
    page: Callable[[Mapping[str, Any]], str]


_FORMS: dict[str, DraftForm] = {}


def register(
    endpoint: str,
    *,
    key: Callable[[Mapping[str, Any]], str],
    page: Callable[[Mapping[str, Any]], str],
    field: str = "body",
) -> None:
    """Keep drafts for a form (the one-line hook a feature calls for each of its forms)."""
    _FORMS[endpoint] = DraftForm(endpoint, field, key, page)


def form_for(endpoint: str | None) -> DraftForm | None:
    """The registered form posted to this endpoint, if any."""
    return _FORMS.get(endpoint or "")


def check_key(form_key: str) -> str:
    """The form key if it has the shape of one (`reply:<id>`); DraftError otherwise."""
    if not KEY_PATTERN.match(form_key or ""):
        raise DraftError(_("That form does not keep drafts."))
    return form_key


def _find(member_id: str, form_key: str) -> Draft | None:
    return db.session.scalar(
        select(Draft).where(Draft.member_id == member_id, Draft.form_key == form_key)
    )


def save(member_id: str, form_key: str, text: str) -> None:
    """Keep (or replace) the member's draft of a form; an empty text discards it."""
    check_key(form_key)
    if len(text) > MAX_TEXT:
        raise DraftError(
            _("A draft holds at most %(limit)s characters.", limit=format(MAX_TEXT, ","))
        )
    if not text.strip():
        discard(member_id, form_key)
        return
    draft = _find(member_id, form_key)
    if draft is None:
        _make_room(member_id)
        key = envelope.new_data_key("draft")
        draft = Draft(id=new_id(), member_id=member_id, form_key=form_key, dek_id=key.id)
        db.session.add(draft)
    draft.seal("body", text)
    draft.updated_at = utcnow()
    db.session.flush()


def load(member_id: str, form_key: str) -> str | None:
    """The member's own draft of a form, opened; None when there is none."""
    draft = _find(member_id, check_key(form_key))
    if draft is None:
        return None
    try:
        return draft.open("body")
    except envelope.SealError:
        return None  # its key was shredded (the member was erased)


def _destroy(draft: Draft) -> None:
    key = db.session.get(DataKey, draft.dek_id)
    db.session.delete(draft)
    db.session.flush()
    if key is not None:
        envelope.shred(key)  # gone from every backup too


def discard(member_id: str, form_key: str) -> None:
    """Delete the member's draft of a form (the post was made, or they threw it away)."""
    draft = _find(member_id, form_key)
    if draft is not None:
        _destroy(draft)
        db.session.flush()


def _make_room(member_id: str) -> None:
    drafts = list(
        db.session.scalars(
            select(Draft).where(Draft.member_id == member_id).order_by(Draft.updated_at.desc())
        )
    )
    for old in drafts[MAX_DRAFTS - 1 :]:
        _destroy(old)


def erase_member(member_id: str) -> int:
    """Crypto-shred and delete every draft of a member (their erasure); how many there were."""
    drafts = list(db.session.scalars(select(Draft).where(Draft.member_id == member_id)))
    for draft in drafts:
        _destroy(draft)
    db.session.flush()
    return len(drafts)
