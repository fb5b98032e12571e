"""Response headers: strict CSP with no inline script, no caching of signed-in pages.

Every response outside /static/ gets `Cache-Control: no-store`, except one a view marked with
`own_caching` because it revalidates by itself (the calendar feed: private, no-cache, ETag and
Last-Modified, so calendar apps get a 304). An HTML page never keeps its own caching, marked or
not: a signed-in page is never stored.
"""

from __future__ import annotations

from flask import Flask, Response, request

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; img-src 'self' data:; worker-src 'self'; manifest-src 'self'"
)


OWN_CACHING = "_exchange_own_caching"


def own_caching(response: Response) -> Response:
    """Keep the Cache-Control a view set on this (non-HTML) response instead of no-store."""
    setattr(response, OWN_CACHING, True)
    return response


def _keeps_own_caching(response: Response) -> bool:
    return bool(getattr(response, OWN_CACHING, False)) and response.mimetype != "text/html"


def init_app(app: Flask) -> None:
    """Add the security headers to every response."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if not request.path.startswith("/static/") and not _keeps_own_caching(response):
            # Pages are personal and confidential: never stored by a browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
