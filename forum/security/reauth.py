"""Ask for the password again before a POST that grants rights, without the platform knowing
how members sign in: the members feature hands its guard at start (`init_app`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app

F = TypeVar("F", bound=Callable[..., Any])
Guard = Callable[[str], Callable[[F], F]]
GUARD_KEY = "exchange.reauth_required_on_post"


def init_app(app: Flask, *, guard: Callable[[str], Callable[[Any], Any]]) -> None:
    """Hand the members feature's `reauth_required_on_post(return_endpoint)` decorator."""
    app.extensions[GUARD_KEY] = guard


def reauth_required_on_post(return_endpoint: str) -> Callable[[F], F]:
    """The POST of this view needs a recent password (the GET stays open), as members decides."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                guard = current_app.extensions[GUARD_KEY]
            except KeyError:
                raise RuntimeError(
                    "no re-authentication guard was handed: create_app must call "
                    "forum.notify.init_app (or forum.security.reauth.init_app)"
                ) from None
            return guard(return_endpoint)(view)(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
