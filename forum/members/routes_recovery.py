"""Routes for account recovery: "Forgot your password?", the single-use reset link, and a
coordinator's re-vetted recovery of a member who lost both password and authenticator."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.crypto import blind_index
from forum.extensions import db, limiter
from forum.members import recovery
from forum.members.blueprint import bp
from forum.members.forms import ForgotForm, RecoverMemberForm, ResetForm
from forum.members.models import Member, RecoveryLink
from forum.members.passwords import hash_password, password_problem
from forum.members.services import MemberError, find_member_by_email
from forum.members.sessions import recently_reauthenticated
from forum.members.web import begin_write, coordinator_required, release_write_lock

RESET_TOKEN = "reset_token"  # noqa: S105 - a session key name, not a secret
SENT = (
    "If this address belongs to a member, we have sent it a link to set a new password. "
    f"The link works once, for {recovery.RESET_MINUTES} minutes."
)


def _forgot_key() -> str:
    address = request.form.get("email", "")
    return "forgot:" + blind_index("ratelimit.forgot", address, length=16).hex()


def _reset_key() -> str:
    token = session.get(RESET_TOKEN)
    if isinstance(token, str):
        return "reset:" + blind_index("ratelimit.reset", token, length=16).hex()
    return "reset-ip:" + get_remote_address()


@bp.route("/sign-in/forgot", methods=["GET", "POST"])
@limiter.limit("3 per hour", key_func=_forgot_key, methods=["POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> Response | str | tuple[str, int]:
    """Ask for a reset link; the same answer whether or not the address is a member's."""
    form = ForgotForm()
    if request.method == "GET":
        return render_template("members/forgot.html", form=form)
    if not form.validate_on_submit():
        return render_template("members/forgot.html", form=form), 422
    recovery.request_reset(form.email.data)
    db.session.commit()
    return render_template("members/forgot.html", form=form, sent=SENT)


@bp.get("/sign-in/reset/<token>")
def reset_link(token: str) -> Response:
    """Take the token out of the address bar at once: keep it in the sealed session."""
    session[RESET_TOKEN] = token
    return redirect(url_for("members.reset_password"), code=303)


def _session_link() -> RecoveryLink | None:
    token = session.get(RESET_TOKEN)
    return recovery.find_link(token) if isinstance(token, str) else None


@bp.route("/sign-in/reset", methods=["GET", "POST"])
@limiter.limit("5 per 5 minutes;20 per day", key_func=_reset_key, methods=["POST"])
def reset_password() -> Response | str | tuple[str, int]:
    """Set a new password with the link (and, for a reset, the authenticator or a recovery code)."""
    link = _session_link()
    if link is None:
        return render_template("members/reset_problem.html", problem=recovery.LINK_PROBLEM), 410
    form = ResetForm()
    context = {"form": form, "needs_code": link.kind == "reset"}
    if request.method == "GET":
        return render_template("members/reset.html", **context)
    if not form.validate_on_submit():
        return render_template("members/reset.html", **context), 422
    member = link.member
    problem = password_problem(form.new.data, user_inputs=(member.display_name, member.email))
    check = recovery.check_code(link, form.code.data or "")
    if check.method is None:
        form.code.errors = ["That code is not right, or it was used already."]
    if problem:
        form.new.errors = [problem]
    if check.method is None or problem:
        return render_template("members/reset.html", **context), 422
    link_id = link.id
    release_write_lock()  # Argon2id without the write lock
    new_hash = hash_password(form.new.data)
    begin_write()
    fresh = db.session.get(RecoveryLink, link_id)
    try:
        if fresh is None:
            raise MemberError(recovery.LINK_PROBLEM)
        recovery.complete_reset(fresh, check, form.code.data or "", new_hash)
    except MemberError as error:
        db.session.commit()  # keep the audit of a failed attempt
        return render_template("members/reset.html", error=str(error), **context), 422
    db.session.commit()
    session.clear()
    flash("Your new password is set, and every session was signed out. Sign in with it now.")
    return redirect(url_for("members.sign_in"))


@bp.route("/admin/members/<member_id>/recover", methods=["GET", "POST"])
@login_required
@coordinator_required
def recover_member(member_id: str) -> Response | str | tuple[str, int]:
    """A coordinator recovers a member who lost password and authenticator, after re-vetting."""
    if not recently_reauthenticated():
        flash("Please confirm your password first.")
        return redirect(url_for("members.reauth", next=request.path))
    member = db.session.get(Member, member_id)
    if member is None or member.status != "active":
        abort(404)
    form = RecoverMemberForm()
    if request.method == "GET":
        return render_template("members/recover_member.html", form=form, member=member)
    if not form.validate_on_submit():
        return render_template("members/recover_member.html", form=form, member=member), 422
    voucher = find_member_by_email(form.voucher.data)
    try:
        if voucher is None:
            raise MemberError(
                "No member has that address; give the address of the member who vouched."
            )
        recovery.coordinator_recovery(current_user, member, voucher)
    except MemberError as error:
        db.session.rollback()
        form.voucher.errors = [str(error)]
        return render_template("members/recover_member.html", form=form, member=member), 422
    db.session.commit()
    flash("The account was reset and a single-use setup link was e-mailed to the member.")
    return redirect(url_for("members.show", member_id=member.id))
