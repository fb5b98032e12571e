"""Guards on members' routes: coordinators only, and the password entered again lately.

`coordinator_required` lives here once; other features use their own policy or this guard.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum.members.sessions import recently_reauthenticated

F = TypeVar("F", bound=Callable[..., Any])


def coordinator_required(view: F) -> F:
    """Only active coordinators: others get 403 (anonymous browsers are sent to sign in)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("members.sign_in", next=request.path))
        if not current_user.is_coordinator:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def reauth_required(return_endpoint: str) -> Callable[[F], F]:
    """Ask for the password again unless it was entered in the last few minutes."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not recently_reauthenticated():
                flash(_("Please confirm your password first, then repeat what you were doing."))
                return redirect(url_for("members.reauth", next=url_for(return_endpoint)))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def reauth_required_on_post(return_endpoint: str) -> Callable[[F], F]:
    """reauth_required for the POST of a page whose GET stays open (a form that grants rights)."""

    def decorate(view: F) -> F:
        guarded = reauth_required(return_endpoint)(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                return guarded(*args, **kwargs)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
