"""Source credentials are encrypted at rest with Fernet. ETL_SECRET_KEY may list several keys
(comma-separated): the first encrypts, all decrypt, so keys can be rotated without downtime."""
from __future__ import annotations

import base64
import hashlib

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from etl.config import get_settings
from etl.errors import Conflict


class CredentialsError(Conflict):
    """Stored credentials cannot be decrypted with the configured keys."""


def _fernet_for(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError:
        # A passphrase rather than a Fernet key: derive a stable 32-byte key from it.
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in get_settings().secret_key.get_secret_value().split(",") if k.strip()]
    return MultiFernet([_fernet_for(k) for k in keys])


def encrypt_credentials(credentials: dict) -> str:
    return _fernet().encrypt(orjson.dumps(credentials)).decode()


def decrypt_credentials(token: str) -> dict:
    try:
        return orjson.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsError(
            "stored credentials cannot be decrypted: ETL_SECRET_KEY does not contain the key they were encrypted with"
        ) from exc


def rotate_credentials(token: str) -> str:
    """Re-encrypt with the first (newest) key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsError(
            "stored credentials cannot be decrypted: ETL_SECRET_KEY does not contain the key they were encrypted with"
        ) from exc
