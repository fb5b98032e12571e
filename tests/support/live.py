"""The application served over HTTP on loopback, for the browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from tests.support.mail import Mailbox

# Seconds a single Playwright action or navigation may take before the test fails.
PAGE_TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    """The application served over HTTP on loopback for a real browser."""

    url: str
    app: Flask
    instance: Path
    mailbox: Mailbox
    server: BaseWSGIServer

    def link(self, path: str) -> str:
        """An absolute URL on this server for a path such as '/members/sign-in'."""
        return self.url + (path if path.startswith("/") else "/" + path)
