"""Errors a person can cause: each carries a message written for them, and becomes a 4xx."""


class DomainError(Exception):
    """A request Mend will not carry out; `message` tells the person what to change."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(DomainError):
    """The request clashes with the present state (a used link, a stage already left)."""

    status = 409
