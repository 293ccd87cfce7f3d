"""A webhook's two secrets, both stored Fernet-encrypted (etl/crypto.py, as integration
credentials) and never listed nor logged:
- its signing secret: made here, shown once (the create and rotate answers);
- its URL: whoever has a Slack incoming-webhook URL can post to the channel, so it is write-only.
  What is shown instead is its masked form, `url_display` (masked_url)."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from etl.crypto import decrypt_credentials, encrypt_credentials

PREFIX = "whsec_"
HIDDEN = "…"
TAIL = 4  # the last characters of the URL shown, to tell two webhooks to the same host apart
TAIL_MIN_HIDDEN = 16  # ... only when the part hidden is long enough that 4 characters give little away


def new_secret() -> tuple[str, str]:
    """(the secret, its encrypted form to store)."""
    secret = PREFIX + secrets.token_urlsafe(32)
    return secret, encrypt_credentials({"secret": secret})


def secret_of(encrypted: str) -> str:
    """CredentialsError when the server's keys no longer decrypt it."""
    return decrypt_credentials(encrypted)["secret"]


def masked_url(url: str) -> str:
    """scheme://host[:port]/… and, for a long path, its last 4 characters:
    https://hooks.slack.com/services/T0/B0/abcdefghXk9Q -> https://hooks.slack.com/…Xk9Q. The host is
    not a secret (delivery errors name it); the path and query often are the credential."""
    parts = urlsplit(url)
    hidden = url[len(f"{parts.scheme}://{parts.netloc}"):].lstrip("/")  # path and query
    origin = f"{parts.scheme.lower()}://{parts.netloc}/"
    if not hidden:
        return origin
    return origin + HIDDEN + (hidden[-TAIL:] if len(hidden) >= TAIL_MIN_HIDDEN else "")


def seal_url(url: str) -> tuple[str, str]:
    """(its encrypted form to store, its masked form to show)."""
    return encrypt_credentials({"url": url}), masked_url(url)


def url_of(encrypted: str) -> str:
    """CredentialsError when the server's keys no longer decrypt it."""
    return decrypt_credentials(encrypted)["url"]
