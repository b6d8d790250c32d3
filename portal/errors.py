"""The one error type for domain failures."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the business said no.

    ``message`` is safe to show to a customer as it is; ``code`` is a stable machine-readable
    reason (the switch API returns it).
    """

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
