"""Routes of the calls feature: the blueprint, and one module per topic beside it.

Routes parse a form, call one service and render or redirect. They neither commit nor catch:
the request owns the unit of work, and a service's `forum.errors` refusal is shown by the app
(a call the visitor may not see answers 404 exactly like a call that does not exist).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from forum.forms import Form

bp = Blueprint("calls", __name__, url_prefix="/calls")

Reply = BaseResponse | str | tuple[str, int]


def form_status() -> int:
    """The status of a form page: 200 when first shown, 422 when what was sent is shown again."""
    return 200 if request.method == "GET" else 422


def refused(form: Form, back_to: str) -> Reply:
    """A one-button form a service refused: say why on the page it came from (400 if malformed)."""
    if not form.form_errors:
        abort(400)
    for message in form.form_errors:
        flash(message, "error")
    return redirect(back_to)


# The route modules register on `bp`; they import it from here, so this is their one import.
from forum.calls.views import agenda, feed, manage, minutes, organise, pages  # noqa: E402,F401
