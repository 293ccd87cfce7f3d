"""Source credentials (and webhook secrets and URLs, etl/notify/secrets.py) are encrypted at rest
with Fernet. ETL_SECRET_KEY may list several keys (comma-separated): the first encrypts, all
decrypt, so keys can be rotated without downtime."""
from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from typing import Iterable

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


@dataclass(frozen=True)
class Unreadable:
    """A stored value that no configured key decrypts, named by the row holding it, never by its value."""
    kind: str  # what the value is: "integration credentials", "webhook secret", "webhook URL"
    id: uuid.UUID  # the integration's or webhook's id
    name: str

    def __str__(self) -> str:
        return f"{self.kind} of {self.id} ({self.name})"


def rotate_stored(rows: Iterable, fields: dict[str, str]) -> tuple[dict[str, int], list[Unreadable]]:
    """Re-encrypt each row's encrypted attributes (attribute -> its kind) with the first key:
    (how many of each kind were re-encrypted, the values no key decrypts). Those are left as they
    are and the others go on: a value that is already unreadable gets no worse when an old key is
    removed, so it must not keep every other value on that key."""
    rotated = dict.fromkeys(fields.values(), 0)
    unreadable = []
    for row in rows:
        for attribute, kind in fields.items():
            try:
                setattr(row, attribute, rotate_credentials(getattr(row, attribute)))
            except CredentialsError:
                unreadable.append(Unreadable(kind, row.id, row.name))
            else:
                rotated[kind] += 1
    return rotated, unreadable
