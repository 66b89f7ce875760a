"""Keypair generation in Backend.AI's format."""

from __future__ import annotations

import base64
import secrets
import string

ACCESS_KEY_PREFIX = "AKIA"
_ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits


def generate_access_key() -> str:
    """20 characters: 'AKIA' + 16 random upper-case letters and digits."""
    return ACCESS_KEY_PREFIX + "".join(secrets.choice(_ACCESS_KEY_ALPHABET) for _ in range(16))


def generate_secret_key() -> str:
    """40 characters: base64 of 30 random bytes."""
    return base64.b64encode(secrets.token_bytes(30)).decode("ascii")
