"""Routes for thread lists, starting a thread, a thread page, following and deleting."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum import drafts
from forum.members import services as members_services
from forum.threads import compose, pages, reading, rendered, services
from forum.threads.forms import EmptyForm, ReplyForm, ThreadForm, WatchForm, choices
from forum.threads.models import Category
from forum.threads.views import _upload, bp, thread_for

NEW_THREAD_DRAFT = "new-thread"
drafts.register(
    "threads.create", key=lambda _args: NEW_THREAD_DRAFT, page=lambda _args: url_for("threads.new")
)


def _index_page(category: Category | None) -> str:
    listing = reading.list_threads(
        current_user, category=category, cursor=request.args.get("after")
    )
    watch = reading.watch_level(current_user, category=category) if category else None
    return render_template(
        "threads/index.html",
        listing=listing,
        authors=members_services.display_names({row.thread.author_id for row in listing.rows}),
        categories=services.list_categories(),
        category=category,
        watch=watch,
    )


@bp.get("/threads")
@login_required
def index() -> str:
    """All threads the member may know of, newest activity first."""
    return _index_page(None)


@bp.get("/threads/c/<slug>")
@login_required
def category(slug: str) -> str:
    """Threads of one category."""
    return _index_page(compose.category_or_404(slug))


def _thread_form() -> ThreadForm:
    form = ThreadForm()
    form.category.choices = choices([(c.id, c.name) for c in services.list_categories()])
    form.participants.choices = choices(pages.member_choices(exclude=(current_user.id,)))
    return form


@bp.get("/threads/new")
@login_required
def new() -> str:
    """The form to start a thread."""
    form = _thread_form()
    if request.args.get("category") and not form.is_submitted():
        chosen = services.category_by_slug(request.args["category"])
        form.category.data = chosen.id if chosen else None
    return render_template("threads/new.html", form=form, warning=None, pending=None)


@bp.post("/threads/new")
@login_required
def create() -> Response | tuple[str, int]:
    """Start a thread (and store its attachment, if any)."""
    form = _thread_form()
    upload = _upload.upload_from(form)
    if not form.validate_on_submit() or upload.error:
        return render_template("threads/new.html", form=form, **_upload.again(form, upload)), 422
    thread = compose.start_thread(author=current_user, **form.payload(), **upload.payload())
    drafts.discard(current_user.id, NEW_THREAD_DRAFT)
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.get("/threads/<thread_id>")
@login_required
def show(thread_id: str) -> str:
    """A thread page: its label and sharing rule, a page of posts, reply form, unread marker."""
    thread = thread_for(thread_id, "exist")
    if not pages.readable(current_user, thread):
        return render_template("threads/existence.html", **pages.existence_page(thread))
    member = current_user._get_current_object()  # not the proxy: the page model reads it often
    form = ReplyForm()
    quoted = pages.quote(member, thread, request.args.get("quote", ""))
    if quoted is not None:
        form.body.data, form.quote_of.data = quoted
    page = pages.thread_page(member, thread, request.args.get("page", type=int))
    return render_template(
        "threads/show.html",
        form=form,
        post_list=rendered.post_list(page),
        **page,
    )


@bp.post("/threads/<thread_id>/watch")
@login_required
def watch(thread_id: str) -> Response:
    """Follow, mute or reset a thread."""
    thread = thread_for(thread_id)
    form = WatchForm()
    if form.validate_on_submit() and form.level.data in ("follow", "mute", ""):
        reading.set_watch(current_user, form.level.data or "", thread=thread)
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.post("/threads/c/<slug>/watch")
@login_required
def watch_category(slug: str) -> Response:
    """Follow, mute or reset a category."""
    found = compose.category_or_404(slug)
    form = WatchForm()
    if form.validate_on_submit() and form.level.data in ("follow", "mute", ""):
        reading.set_watch(current_user, form.level.data or "", category=found)
    return redirect(url_for("threads.category", slug=slug))


@bp.post("/threads/<thread_id>/delete")
@login_required
def delete_thread(thread_id: str) -> Response:
    """Delete a thread and shred its key (its starter or a coordinator)."""
    thread = thread_for(thread_id, "exist")
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete_thread(actor=current_user, thread=thread)
    flash(_("The thread was deleted. Its text can no longer be recovered."))
    return redirect(url_for("threads.index"))
