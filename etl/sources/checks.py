"""What every source's checks.py shares: the settings error, the limits on lists, the credentials'
text, and the shape of a connection test's answer."""
from __future__ import annotations


class InvalidSettings(ValueError):
    """An integration's settings or credentials a source cannot work with; the message says what
    to fix (etl.tenancy.integrations shows it as InvalidIntegration)."""


def check_count(what: str, items: list, limit: int, setting: str) -> None:
    if len(items) > limit:
        raise InvalidSettings(f"{len(items)} {what} in one integration, more than {limit} ({setting}); "
                              "split them over several integrations")


def check_credential_text(credentials: dict) -> None:
    """Whitespace or control characters in a token are a paste accident (and no HTTP header can carry
    a line break), and so is a character outside Latin-1 such as €: headers, Basic auth included,
    are sent as Latin-1, so the request could never be made. The message names the field, never
    the value."""
    for field in ("email", "token"):
        value = credentials.get(field)
        if not isinstance(value, str):
            continue
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
            raise InvalidSettings(f"the credentials' {field} contains spaces, tabs or line breaks; "
                                  "paste it without them")
        if not _fits_http_header(value):
            raise InvalidSettings(f"the credentials' {field} contains a character that cannot be sent in an "
                                  "HTTP header (such as € or a non-Latin letter); paste it exactly as the "
                                  "source issued it")


def _fits_http_header(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def failed(problem: str, error: str) -> dict:
    """A connection test's answer when the source refused something: `problem` names the setting to
    fix (credentials | url | project | jql | repository | unavailable), `error` says how."""
    return {"ok": False, "problem": problem, "error": error}


def passed(account: str, checked: list[str]) -> dict:
    return {"ok": True, "account": account, "checked": checked}
