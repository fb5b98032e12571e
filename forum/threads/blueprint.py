"""The threads blueprint and the lookups its routes share (each answers 404 for no access)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user
from sqlalchemy import select

from forum.crypto import envelope
from forum.extensions import db
from forum.markup import tlp
from forum.members.models import Member
from forum.threads import services
from forum.threads.models import Post, Thread
from forum.threads.services import NotFound

bp = Blueprint("threads", __name__)


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"tlp": tlp}


def thread_or_404(thread_id: str, need: str = "read") -> Thread:
    """The thread if the signed-in member may `need` it; the same 404 as a missing one otherwise."""
    try:
        return services.get_thread(current_user, thread_id, need="exist" if need == "exist"
                                   else "read")  # fmt: skip
    except NotFound:
        abort(404)


def post_or_404(post_id: str) -> tuple[Thread, Post]:
    """The post and its thread if the signed-in member may read them; 404 otherwise."""
    try:
        return services.get_post(current_user, post_id)
    except NotFound:
        abort(404)


def names(member_ids: set[str]) -> dict[str, str]:
    """Display names of the given members."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        select(Member.id, Member.name_sealed).where(Member.id.in_(member_ids))
    )
    return {
        member_id: envelope.open_text(sealed, envelope.context("member", member_id, "name"))
        for member_id, sealed in rows
    }
