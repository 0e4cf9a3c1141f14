"""Configuration from the environment, with file-backed secrets for the embedded default.

Every setting an operator may change is read here and documented in the README.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent.parent


def var_dir() -> Path:
    path = Path(os.environ.get("MUSTER_VAR_DIR", REPO_DIR / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole number from the environment; a malformed or too small value stops the start with its name."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()) or int(text) < minimum:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name} must be a whole number of at least {minimum}, not {raw!r}.")
    return int(text)


def secret_from_env_or_file(env_name: str, filename: str, nbytes: int) -> str:
    """Return the secret in ``env_name``; else one kept in ``var/filename`` (created on first use)."""
    value = os.environ.get(env_name)
    if value:
        return value
    path = var_dir() / filename
    if not path.exists():
        token = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, token.encode())
        finally:
            os.close(fd)
    return path.read_text().strip()
