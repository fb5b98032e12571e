"""What a browser whose session ended is told: sign in, and come back to a page (never to a
POST-only address). A form posted after the idle timeout keeps its text as the member's draft.

The sign-in redirect carries `next`, the GET page of the form (e.g. the thread), whose script
restores the draft from the server. The draft is bound to the member of the ended session, so it
only comes back to that member: the session must have ended by timing out (not by signing out,
suspension, removal or a password change) and its member must still be active. The CSRF check,
which runs before this, proves the post came from that member's own browser.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from forum import drafts
from forum.extensions import db, login_manager
from forum.lazytext import lazy_gettext as _l
from forum.members.models import MemberSession
from forum.members.sessions import SESSION_KEY, _digest

SIGN_IN_MESSAGE = _l("Please sign in to continue.")
KEPT_MESSAGE = _l(
    "Your session had ended, so nothing was posted. What you wrote was kept as a draft: "
    "sign in and it will be back in the form."
)


def member_of_timed_out_session() -> str | None:
    """The id of the member whose session in this browser ended by timing out, if any."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return None
    row = db.session.get(MemberSession, _digest(token))
    if row is None or row.member.status != "active":
        return None
    if row.ended_at is not None and row.end_reason != "timeout":
        return None
    return row.member_id


def _keep_draft() -> str | None:
    """Keep the posted text of a drafts-aware form; the page to come back to, if it is one."""
    form = drafts.form_for(request.endpoint)
    if form is None:
        return None
    args = request.view_args or {}
    member_id = member_of_timed_out_session()
    text = request.form.get(form.field, "")
    if member_id and text.strip():
        try:
            drafts.save(member_id, form.key(args), text)
            db.session.commit()
            flash(str(KEPT_MESSAGE), "warning")
        except drafts.DraftError:
            db.session.rollback()
    return form.page(args)


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    """Send the browser to sign in (a script's request gets 401), keeping a posted draft."""
    if request.blueprint == "drafts" or request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": _("Your session has ended; please sign in again.")})
        response.status_code = 401
        return response
    target: str | None = None
    if request.method == "POST":
        target = _keep_draft()
    else:
        target = request.full_path.rstrip("?")
    if not request.method == "POST" or target is None:
        flash(str(SIGN_IN_MESSAGE))
    return redirect(url_for("members.sign_in", next=target))
