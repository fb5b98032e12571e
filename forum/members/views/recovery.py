"""Routes for account recovery: "Forgot your password?", the single-use reset link, and a
coordinator's re-vetted recovery of a member who lost both password and authenticator."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum import db as uow
from forum.extensions import limiter
from forum.lazytext import lazy_gettext as _l
from forum.members import recovery, services
from forum.members.forms import ForgotForm, RecoverMemberForm, ResetForm
from forum.members.models import RecoveryLink
from forum.members.sessions import recently_reauthenticated
from forum.members.views import bp
from forum.members.views.client import form_page, set_problems
from forum.members.views.guards import coordinator_required
from forum.members.views.limits import RESET_TOKEN, counted_once, forgot_key, reset_key

SENT = _l(
    "If this address belongs to a member, we have sent it a link to set a new password. "
    "The link works once, for %(n)s minutes.",
    n=recovery.RESET_MINUTES,
)


@bp.route("/sign-in/forgot", methods=["GET", "POST"])
@limiter.limit("3 per hour", key_func=forgot_key, methods=["POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> Response | str | tuple[str, int]:
    """Ask for a reset link; the same answer whether or not the address is a member's."""
    form = ForgotForm()
    if not form.validate_on_submit():
        return form_page("members/forgot.html", form=form)
    recovery.request_reset(form.email.data)
    return render_template("members/forgot.html", form=form, sent=str(SENT))


@bp.get("/sign-in/reset/<token>")
def reset_link(token: str) -> Response:
    """Take the token out of the address bar at once: keep it in the sealed session."""
    session[RESET_TOKEN] = token
    return redirect(url_for("members.reset_password"), code=303)


def _session_link() -> RecoveryLink | None:
    token = session.get(RESET_TOKEN)
    return recovery.find_link(token) if isinstance(token, str) else None


def _checked(form: ResetForm, link: RecoveryLink) -> recovery.CodeCheck | None:
    """The code's check when the form and its code and new password are all right."""
    if not form.validate_on_submit():
        return None
    check, problems = recovery.reset_problems(link, form.code.data or "", form.new.data)
    return check if set_problems(form, problems) else None


@bp.route("/sign-in/reset", methods=["GET", "POST"])
@counted_once(limiter.limit("5 per 5 minutes;20 per day", key_func=reset_key, methods=["POST"]))
def reset_password() -> Response | str | tuple[str, int]:
    """Set a new password with the link (and, for a reset, the authenticator or a recovery code)."""
    link = _session_link()
    if link is None:
        return render_template(
            "members/reset_problem.html", problem=str(recovery.LINK_PROBLEM)
        ), 410
    form = ResetForm()
    context = {"form": form, "needs_code": link.kind == "reset"}
    check = _checked(form, link)
    if check is None:
        return form_page("members/reset.html", **context)
    uow.keep_on_refusal()  # a failed attempt stays audited
    recovery.reset_password(link.id, check, form.code.data or "", form.new.data)
    session.clear()
    flash(_("Your new password is set, and every session was signed out. Sign in with it now."))
    return redirect(url_for("members.sign_in"))


@bp.route("/admin/members/<member_id>/recover", methods=["GET", "POST"])
@login_required
@coordinator_required
def recover_member(member_id: str) -> Response | str | tuple[str, int]:
    """A coordinator recovers a member who lost password and authenticator, after re-vetting."""
    if not recently_reauthenticated():
        flash(_("Please confirm your password first."))
        return redirect(url_for("members.reauth", next=request.path))
    member = services.get_member(member_id)
    if member is None or member.status != "active":
        abort(404)
    form = RecoverMemberForm()
    if not form.validate_on_submit():
        return form_page("members/recover_member.html", form=form, member=member)
    recovery.recover_member(current_user, member, form.voucher.data)
    flash(_("The account was reset and a single-use setup link was e-mailed to the member."))
    return redirect(url_for("members.show", member_id=member.id))
