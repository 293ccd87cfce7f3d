"""One tree for the refusals of the domain. Each module keeps its own exception classes, whose names
say what happened (ActiveJobExists, InvalidSchedule, ...), and derives them from the kind of refusal
below; the API maps these kinds to HTTP statuses in one place (api/errors.py). A refusal's message
is written for the caller: it says what is wrong and, where it can, what to do.

Classes that callers also catch as ValueError keep it as a second base. Failures of a source (etl.sources.http:
retriable or fatal) and a stage's own control flow (JobEnded) are not refusals and stay outside the tree.
Imports nothing, so every layer may use it."""
from __future__ import annotations


class DomainError(Exception):
    """Something asked of the domain that it refuses; the message says why."""


class NotFound(DomainError, LookupError):
    """What the request names does not exist (for this tenant). A LookupError too, which is what etl
    raised for this before the tree, so its callers that catch LookupError keep working."""


class Conflict(DomainError):
    """The request collides with the current state: a row with the same name, a job still active,
    a row still in use."""


class Invalid(DomainError):
    """The request is malformed or breaks a rule; sending it again unchanged fails again."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """The caller's credentials (an API key, a JWT) cannot be accepted."""


class TooMany(DomainError):
    """A limit is reached; the same request succeeds once something has ended."""


class Unavailable(DomainError):
    """A service the request needs (the broker) cannot be reached now."""
