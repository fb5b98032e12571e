"""The threads blueprint; its routes are in the modules beside this one, by topic."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from forum.markup import tlp
from forum.threads import attachments, rendered, services
from forum.threads.models import Post, Thread

bp = Blueprint("threads", __name__)
bp.record_once(lambda state: rendered.init_app(state.app))

UPLOAD_ENDPOINTS = {"threads.create", "threads.reply"}
# A post whose file is up to this many times the upload limit still comes back as a form.
OVERSIZE_FACTOR = 4


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"tlp": tlp}


@bp.url_value_preprocessor
def _room_for_an_oversized_file(endpoint: str | None, values: dict[str, object] | None) -> None:
    """Let a post with a file over the limit reach its view (spooled to disk, never held in
    memory), so the form comes back with the text kept and the error at the file field; past
    OVERSIZE_FACTOR times the limit the app's 413 page still answers."""
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = attachments.max_bytes() * OVERSIZE_FACTOR
        request.max_form_memory_size = 16 * services.MAX_BODY  # too long is said at the field


def thread_for(thread_id: str, need: str = "read") -> Thread:
    """The thread if the signed-in member may `need` it; NotFound (a 404) otherwise."""
    return services.get_thread(current_user, thread_id, need="exist" if need == "exist" else "read")


def post_for(post_id: str) -> tuple[Thread, Post]:
    """The post and its thread if the signed-in member may read them; NotFound otherwise."""
    return services.get_post(current_user, post_id)


from forum.threads.views import categories, moderation, posts, search, threads  # noqa: E402

__all__ = ["bp", "categories", "moderation", "posts", "search", "threads"]
