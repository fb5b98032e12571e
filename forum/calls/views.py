"""Routes of the calls feature."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calls", __name__)
