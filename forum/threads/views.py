"""Routes of the threads feature: lists, thread pages, posting, attachments and search.

Moderation and label/participant routes are in views_moderation.py (same blueprint).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from forum import drafts
from forum.extensions import db
from forum.markup import markdown, tlp
from forum.members.models import Member
from forum.threads import (
    attachments,
    content,
    policy,
    reading,
    services,
    views_categories,  # noqa: F401 - registers the category routes
    views_moderation,  # noqa: F401 - registers the moderation routes
)
from forum.threads import search as search_service
from forum.threads.blueprint import bp, names, post_or_404, thread_or_404
from forum.threads.forms import EditForm, ReplyForm, SearchForm, ThreadForm, WatchForm, choices
from forum.threads.models import Attachment, Category, Post, Thread
from forum.threads.services import NotFound, PersonalDataWarning, ThreadError

__all__ = ["bp"]

UPLOAD_ENDPOINTS = {"threads.create", "threads.reply"}
# A post whose file is up to this many times the upload limit still comes back as a form.
OVERSIZE_FACTOR = 4


NEW_THREAD_DRAFT = "new-thread"
drafts.register("threads.create", key=lambda _args: NEW_THREAD_DRAFT,
                page=lambda _args: url_for("threads.new"))  # fmt: skip
drafts.register("threads.reply", key=lambda args: f"reply:{args['thread_id']}",
                page=lambda args: url_for("threads.show", thread_id=args["thread_id"]))  # fmt: skip


def _categories() -> list[Category]:
    return services.list_categories()  # the defaults are made once, at first start


@bp.get("/threads")
@login_required
def index() -> str:
    """All threads the member may know of, newest activity first."""
    listing = reading.list_threads(current_user, cursor=request.args.get("after"))
    authors = names({row.thread.author_id for row in listing.rows})
    return render_template("threads/index.html", listing=listing, authors=authors,
                           categories=_categories(), category=None, tlp=tlp,
                           watch=None, watch_form=WatchForm())  # fmt: skip


@bp.get("/threads/c/<slug>")
@login_required
def category(slug: str) -> str:
    """Threads of one category."""
    found = services.category_by_slug(slug)
    if found is None:
        abort(404)
    listing = reading.list_threads(current_user, category=found, cursor=request.args.get("after"))
    authors = names({row.thread.author_id for row in listing.rows})
    return render_template("threads/index.html", listing=listing, authors=authors,
                           categories=_categories(), category=found, tlp=tlp,
                           watch=reading.watch_level(current_user, category=found),
                           watch_form=WatchForm())  # fmt: skip


def _thread_form() -> ThreadForm:
    form = ThreadForm()
    form.category.choices = choices([(c.id, c.name) for c in _categories()])
    others = db.session.scalars(select(Member).where(Member.status == "active",
                                                     Member.id != current_user.id)).all()  # fmt: skip
    form.participants.choices = choices(sorted(((m.id, m.display_name) for m in others),
                                       key=lambda c: c[1].casefold()))  # fmt: skip
    return form


@bp.get("/threads/new")
@login_required
def new() -> str:
    """The form to start a thread."""
    form = _thread_form()
    if request.args.get("category") and not form.is_submitted():
        chosen = services.category_by_slug(request.args["category"])
        form.category.data = chosen.id if chosen else None
    return render_template("threads/new.html", form=form, tlp=tlp, warning=None, pending=None)


@bp.url_value_preprocessor
def _room_for_an_oversized_file(endpoint: str | None, values: dict[str, object] | None) -> None:
    """Let a post with a file over the limit reach its view (spooled to disk, never held in
    memory), so the form comes back with the text kept and the error at the file field; past
    OVERSIZE_FACTOR times the limit the app's 413 page still answers."""
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = attachments.max_bytes() * OVERSIZE_FACTOR
        request.max_form_memory_size = 16 * services.MAX_BODY  # too long is said at the field


def _pending(form: ThreadForm | ReplyForm) -> Attachment | None:
    """The member's file kept from their last try, unless they ticked "Do not attach it"."""
    pending = attachments.pending_for(current_user, form.pending_attachment.data)
    if pending is not None and form.drop_attachment.data:
        attachments.discard(pending)
        db.session.commit()
        return None
    return pending


def _checked_upload(form: ThreadForm | ReplyForm) -> tuple[attachments.Checked | None, str]:
    """The file sent with the form if it passed the checks, and the error to show at its field."""
    upload = form.attachment.data
    if not upload or not upload.filename:
        return None, ""
    try:
        return attachments.check(upload.filename, upload.stream, upload.mimetype), ""
    except attachments.AttachmentError as error:
        return None, str(error)


def _keep_file(form: ThreadForm | ReplyForm, checked: attachments.Checked | None,
               pending: Attachment | None, file_error: str) -> Attachment | None:  # fmt: skip
    """After any error: keep the file sent (or the one kept before) as the member's pending
    attachment, so it need not be chosen again; a refused file is said at its field."""
    if file_error:
        form.attachment.errors = [*form.attachment.errors, file_error]
    if checked is not None:
        try:
            staged = attachments.stage(uploader=current_user, checked=checked)
            if pending is not None:
                attachments.discard(pending)
            pending = staged
            db.session.commit()
        except attachments.AttachmentError as error:
            db.session.rollback()
            form.attachment.errors = [*form.attachment.errors, str(error)]
    form.pending_attachment.data = pending.id if pending is not None else ""
    return pending


def _attach(thread: Thread, post: Post, checked: attachments.Checked | None,
            pending: Attachment | None) -> None:  # fmt: skip
    if checked is not None:
        attachments.add(uploader=current_user, thread=thread, post=post, checked=checked)
        if pending is not None:
            attachments.discard(pending)
    elif pending is not None:
        attachments.claim(uploader=current_user, attachment=pending, thread=thread, post=post)


def _at_field(form: ThreadForm | ReplyForm, error: Exception) -> None:
    name = "attachment" if isinstance(error, attachments.AttachmentError) else getattr(
        error, "field", "body")  # fmt: skip
    field = getattr(form, name, None) or form.body
    field.errors = [*field.errors, str(error)]


@bp.post("/threads/new")
@login_required
def create() -> Response | tuple[str, int]:
    """Start a thread (and store its attachment, if any)."""
    form = _thread_form()
    pending = _pending(form)
    valid = form.validate_on_submit()
    checked, file_error = _checked_upload(form)

    def again(warning: str | None = None) -> tuple[str, int]:
        kept = _keep_file(form, checked, pending, file_error)
        return render_template("threads/new.html", form=form, tlp=tlp, warning=warning,
                               pending=kept, content=content), 422  # fmt: skip

    if not valid or file_error:
        return again()
    chosen = db.session.get(Category, form.category.data)
    picked = db.session.scalars(select(Member).where(
        Member.id.in_(form.participants.data or []))).all()  # fmt: skip
    try:
        thread = services.start_thread(
            author=current_user, category=chosen, title=form.title.data or "",
            body=form.body.data or "", label=form.label.data or "", participants=picked,
            tags=form.tag_list(), pii_confirmed=bool(form.confirm_pii.data),
        )  # fmt: skip
        first = db.session.scalars(select(Post).where(Post.thread_id == thread.id,
                                                      Post.seq == 1)).one()  # fmt: skip
        _attach(thread, first, checked, pending)
    except PersonalDataWarning as warning:
        db.session.rollback()
        return again(str(warning))
    except (ThreadError, attachments.AttachmentError) as error:
        db.session.rollback()
        _at_field(form, error)
        if isinstance(error, attachments.AttachmentError):
            checked = None
        return again()
    drafts.discard(current_user.id, NEW_THREAD_DRAFT)
    db.session.commit()
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.get("/threads/<thread_id>")
@login_required
def show(thread_id: str) -> str:
    """A thread page: its label and sharing rule, a page of posts, reply form, unread marker."""
    thread = thread_or_404(thread_id, "exist")
    if not policy.can_read(current_user, thread):
        return render_template("threads/existence.html", thread=thread, tlp=tlp,
                               starter=thread.author.display_name)  # fmt: skip
    seen = reading.last_read(current_user, thread)
    page = request.args.get("page", type=int) or reading.first_unread_page(thread, seen)
    page = min(max(page, 1), reading.page_count(thread))
    posts = reading.posts_page(current_user, thread, page)
    files = attachments.for_posts([p.id for p in posts])
    form = ReplyForm()
    quote_id = request.args.get("quote", "")
    quoted = services.quote_for(current_user, thread, quote_id) if quote_id else None
    if quoted is not None:
        form.body.data = markdown.quote(content.post_source(quoted), quoted.author.display_name)
        form.quote_of.data = quoted.id
    html = render_template(
        "threads/show.html", thread=thread, title=content.title(thread),
        tags=content.tags(thread), label=tlp.get(thread.label), posts=posts, files=files,
        authors=names({p.author_id for p in posts}), page=page,
        pages=reading.page_count(thread), seen=seen, form=form, policy=policy,
        watch=reading.watch_level(current_user, thread=thread), watch_form=WatchForm(),
        content=content, tlp=tlp, participants=reading.participants_shown(current_user, thread),
    )  # fmt: skip
    if posts:
        reading.record_read(current_user, thread, posts[-1].seq, seen)
    return html


@bp.post("/threads/<thread_id>/posts")
@login_required
def reply(thread_id: str) -> Response | tuple[str, int]:
    """Reply in a thread."""
    thread = thread_or_404(thread_id)
    form = ReplyForm()
    pending = _pending(form)
    valid = form.validate_on_submit()
    checked, file_error = _checked_upload(form)

    def again(warning: str | None = None) -> tuple[str, int]:
        kept = _keep_file(form, checked, pending, file_error)
        return render_template("threads/reply.html", thread=thread, form=form, warning=warning,
                               title=content.title(thread), label=tlp.get(thread.label),
                               pending=kept, content=content), 422  # fmt: skip

    if not valid or file_error:
        return again()
    quoted = services.quote_for(current_user, thread, form.quote_of.data or "")
    try:
        post = services.reply(author=current_user, thread=thread, body=form.body.data or "",
                              quote_of=quoted, pii_confirmed=bool(form.confirm_pii.data))  # fmt: skip
        _attach(thread, post, checked, pending)
    except PersonalDataWarning as warning:
        db.session.rollback()
        return again(str(warning))
    except NotFound:
        db.session.rollback()
        abort(404)
    except (ThreadError, attachments.AttachmentError) as error:
        db.session.rollback()
        _at_field(form, error)
        if isinstance(error, attachments.AttachmentError):
            checked = None
        return again()
    drafts.discard(current_user.id, f"reply:{thread.id}")
    db.session.commit()
    page = (post.seq - 1) // reading.PAGE_SIZE + 1
    return redirect(url_for("threads.show", thread_id=thread.id, page=page,
                            _anchor=f"post-{post.seq}"))  # fmt: skip


@bp.route("/threads/posts/<post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: str) -> Response | str | tuple[str, int]:
    """Edit a post (its author); the earlier text is kept, sealed, in its history."""
    thread, post = post_or_404(post_id)
    if not policy.can_edit_post(current_user, thread, post):
        abort(404)
    form = EditForm()
    if request.method == "GET":
        form.body.data = content.post_source(post)
        return render_template("threads/edit.html", form=form, thread=thread, post=post,
                               warning=None, title=content.title(thread))  # fmt: skip
    if not form.validate_on_submit():
        return render_template("threads/edit.html", form=form, thread=thread, post=post,
                               warning=None, title=content.title(thread)), 422  # fmt: skip
    try:
        services.edit_post(editor=current_user, post=post, body=form.body.data or "",
                           pii_confirmed=bool(form.confirm_pii.data))  # fmt: skip
    except PersonalDataWarning as warning:
        db.session.rollback()
        return render_template("threads/edit.html", form=form, thread=thread, post=post,
                               warning=str(warning), title=content.title(thread)), 422  # fmt: skip
    except ThreadError as error:
        db.session.rollback()
        form.body.errors = [str(error)]
        return render_template("threads/edit.html", form=form, thread=thread, post=post,
                               warning=None, title=content.title(thread)), 422  # fmt: skip
    db.session.commit()
    page = (post.seq - 1) // reading.PAGE_SIZE + 1
    return redirect(url_for("threads.show", thread_id=thread.id, page=page,
                            _anchor=f"post-{post.seq}"))  # fmt: skip


@bp.get("/threads/posts/<post_id>/history")
@login_required
def post_history(post_id: str) -> str:
    """The earlier versions of a post."""
    thread, post = post_or_404(post_id)
    try:
        revisions = services.post_history(current_user, post)
    except NotFound:
        abort(404)
    return render_template("threads/history.html", thread=thread, post=post, revisions=revisions,
                           current=content.post_source(post), title=content.title(thread),
                           editors=names({r.editor_id for r, _ in revisions}))  # fmt: skip


@bp.get("/threads/attachments/<attachment_id>")
@login_required
def attachment(attachment_id: str) -> Response:
    """Download an attachment (readers only): as an attachment, never cached, never sniffed."""
    try:
        found, data = attachments.download(current_user, attachment_id)
    except LookupError:
        abort(404)
    db.session.commit()  # the audit record of a RED download
    response = make_response(data)
    response.headers["Content-Type"] = found.content_type
    name = content.attachment_name(found)
    ascii_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120] or "file"
    response.headers["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/threads/<thread_id>/watch")
@login_required
def watch(thread_id: str) -> Response:
    """Follow, mute or reset a thread."""
    thread = thread_or_404(thread_id)
    form = WatchForm()
    if form.validate_on_submit() and form.level.data in ("follow", "mute", ""):
        reading.set_watch(current_user, form.level.data or "", thread=thread)
        db.session.commit()
    return redirect(url_for("threads.show", thread_id=thread.id))


@bp.post("/threads/c/<slug>/watch")
@login_required
def watch_category(slug: str) -> Response:
    """Follow, mute or reset a category."""
    found = services.category_by_slug(slug)
    if found is None:
        abort(404)
    form = WatchForm()
    if form.validate_on_submit() and form.level.data in ("follow", "mute", ""):
        reading.set_watch(current_user, form.level.data or "", category=found)
        db.session.commit()
    return redirect(url_for("threads.category", slug=slug))


def _day(value: object, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    moment = datetime.combine(value, time.min, tzinfo=UTC)  # type: ignore[arg-type]
    return moment + timedelta(days=1) if end else moment


@bp.get("/threads/search")
@login_required
def search() -> str:
    """Search titles and posts of the threads the member may read."""
    form = SearchForm(request.args)
    form.category.choices = choices(
        [("", "Any category"), *((c.id, c.name) for c in _categories())]
    )
    active = db.session.scalars(select(Member).where(Member.status == "active")).all()
    form.author.choices = choices([("", "Anyone"), *sorted(((m.id, m.display_name) for m in active),
                                                   key=lambda c: c[1].casefold())])  # fmt: skip
    results = None
    page = max(request.args.get("page", type=int) or 1, 1)
    if form.validate():
        query = search_service.Query(
            text=form.q.data or "", author_id=form.author.data or None,
            category_id=form.category.data or None, tag=(form.tag.data or "").strip() or None,
            label=form.label.data or None, date_from=_day(form.date_from.data),
            date_to=_day(form.date_to.data, end=True),
        )  # fmt: skip
        if not query.is_empty:
            results = search_service.search(current_user, query, offset=(page - 1) * 20)
    authors = names({r.author_id for r in results.items}) if results else {}
    return render_template("threads/search.html", form=form, results=results, page=page,
                           authors=authors, tlp=tlp)  # fmt: skip
