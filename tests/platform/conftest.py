"""Fixtures of the platform tests."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.platform.bounce_helpers import BOUNCE_ADDRESS


@pytest.fixture
def bounce_address(app: Flask) -> str:
    """This Exchange with mail.bounce_address set: its e-mails leave from VERP addresses."""
    app.config["EXCHANGE"]["mail"]["bounce_address"] = BOUNCE_ADDRESS
    return BOUNCE_ADDRESS
