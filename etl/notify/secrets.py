"""A webhook's signing secret: made here, shown once (the create and rotate answers), stored
Fernet-encrypted (etl/crypto.py, as integration credentials), never listed nor logged."""
from __future__ import annotations

import secrets

from etl.crypto import decrypt_credentials, encrypt_credentials

PREFIX = "whsec_"


def new_secret() -> tuple[str, str]:
    """(the secret, its encrypted form to store)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return secret, encrypt_credentials({"secret": secret})


def secret_of(encrypted: str) -> str:
    """CredentialsError when the server's keys no longer decrypt it."""
    return decrypt_credentials(encrypted)["secret"]
