"""Rate limits shared by every check of a secret, and the guard against counters that silently
multiply across processes."""

from __future__ import annotations

from collections.abc import Callable

from flask_limiter.util import get_remote_address
from flask_login import current_user

from forum.config import ConfigError
from forum.extensions import limiter

# Every check of a signed-in member's secret (password change, re-authentication, a new
# authenticator's code, recovery codes) draws on one bucket per member.
SECRET_CHECK_LIMITS = "5 per minute;20 per hour"  # noqa: S105 - limits, not a secret


def _member_key() -> str:
    if current_user.is_authenticated:
        return f"secret-check:{current_user.id}"
    return f"secret-check-ip:{get_remote_address()}"


def secret_check_limit() -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Decorator: the POSTs of this route count against the member's secret-check bucket."""
    return limiter.shared_limit(
        SECRET_CHECK_LIMITS, scope="secret-check", key_func=_member_key, methods=["POST"]
    )


def refuse_unshared_counters(storage_uri: str, workers: int, enabled: bool = True) -> None:
    """Stop the start when several processes would each keep their own rate-limit counters."""
    if enabled and workers > 1 and storage_uri.strip().startswith("memory://"):
        raise ConfigError(
            f"Setting security.ratelimit_storage_uri is memory:// but {workers} worker processes "
            "would each count on their own (multiplying every limit); use a shared store such "
            'as "redis://127.0.0.1:6379/0", or one worker.'
        )
