"""Routes for posts: replying, editing, history, attachments, flags, deleting and hiding."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum import drafts
from forum.markup import tlp
from forum.members import services as members_services
from forum.threads import attachments, compose, content, moderation, reading, services
from forum.threads.errors import personal_data_warning
from forum.threads.forms import EditForm, EmptyForm, FlagForm, ReplyForm
from forum.threads.models import Post, Thread
from forum.threads.views import _upload, bp, post_for, thread_for

drafts.register(
    "threads.reply",
    key=lambda args: f"reply:{args['thread_id']}",
    page=lambda args: url_for("threads.show", thread_id=args["thread_id"]),
)


def _to_post(thread: Thread, post: Post) -> Response:
    page = (post.seq - 1) // reading.PAGE_SIZE + 1
    anchor = f"post-{post.seq}"
    return redirect(url_for("threads.show", thread_id=thread.id, page=page, _anchor=anchor))


def _thread_head(thread: Thread) -> dict[str, Any]:
    return {"thread": thread, "title": content.title(thread), "label": tlp.get(thread.label)}


@bp.post("/threads/<thread_id>/posts")
@login_required
def reply(thread_id: str) -> Response | tuple[str, int]:
    """Reply in a thread."""
    thread = thread_for(thread_id)
    form = ReplyForm()
    upload = _upload.upload_from(form)
    if not form.validate_on_submit() or upload.error:
        again = _upload.again(form, upload)
        return render_template(
            "threads/reply.html", form=form, **_thread_head(thread), **again
        ), 422
    post = compose.reply(author=current_user, thread=thread, **form.payload(), **upload.payload())
    drafts.discard(current_user.id, f"reply:{thread.id}")
    return _to_post(thread, post)


@bp.route("/threads/posts/<post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: str) -> Response | str | tuple[str, int]:
    """Edit a post (its author); the earlier text is kept, sealed, in its history."""
    thread, post = services.editable_post(current_user, post_id)
    form = EditForm()
    if request.method == "GET":
        form.body.data = content.post_source(post)
    if not form.validate_on_submit():
        shown = {"form": form, "post": post, "warning": personal_data_warning()}
        page = render_template("threads/edit.html", **shown, **_thread_head(thread))
        return (page, 422) if form.is_submitted() else page
    services.edit_post(editor=current_user, post=post, **form.payload())
    return _to_post(thread, post)


@bp.get("/threads/posts/<post_id>/history")
@login_required
def post_history(post_id: str) -> str:
    """The earlier versions of a post."""
    thread, post = post_for(post_id)
    revisions = services.post_history(current_user, post)
    editors = members_services.display_names({r.editor_id for r, _ in revisions})
    return render_template(
        "threads/history.html",
        post=post,
        revisions=revisions,
        editors=editors,
        current=content.post_source(post),
        **_thread_head(thread),
    )


@bp.get("/threads/attachments/<attachment_id>")
@login_required
def attachment(attachment_id: str) -> Response:
    """Download an attachment (readers only): as an attachment, never cached, never sniffed."""
    found, data = attachments.download(current_user, attachment_id)  # a RED download is audited
    response = make_response(data)
    response.headers["Content-Type"] = found.content_type
    response.headers["Content-Disposition"] = attachments.disposition(found)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/threads/posts/<post_id>/flag", methods=["GET", "POST"])
@login_required
def flag_post(post_id: str) -> Response | str | tuple[str, int]:
    """Flag a post to the coordinators, with a reason."""
    thread, post = post_for(post_id)
    form = FlagForm()
    if not form.validate_on_submit():
        page = render_template("threads/flag.html", form=form, post=post, **_thread_head(thread))
        return (page, 422) if form.is_submitted() else page
    moderation.flag_post(reporter=current_user, post=post, reason=form.reason.data or "")
    flash(_("Thank you. A coordinator will look at this post."))
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.post("/threads/posts/<post_id>/<action>")
@login_required
def post_action(post_id: str, action: str) -> Response:
    """Delete (author or coordinator), hide or unhide (coordinators) a post."""
    thread, post = post_for(post_id)
    form = EmptyForm()
    if form.validate_on_submit():
        moderation.post_action(actor=current_user, post=post, action=action)
    for refused in form.form_errors:  # a refusal, shown again: said on the thread page
        flash(refused, "error")
    return redirect(url_for("threads.show", thread_id=thread.id))
