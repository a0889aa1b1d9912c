"""Calls from a lower layer up into the apps above it, without importing them (docs/layers.md).

A lower app declares its hooks in its own `hooks` module; each upper app registers its functions there from
its AppConfig.ready(). The lower app then calls whatever is registered, inside its own transaction, where it
used to call the upper app directly: the same work in the same order, and the import points down."""

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

F = TypeVar("F", bound=Callable)


class Listeners(Generic[F]):
    """What upper apps do when something happens below: each listener runs in the order registered."""

    def __init__(self, event: str):
        self.event = event
        self._listeners: list[F] = []

    def register(self, listener: F) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def __iter__(self) -> Iterator[F]:
        return iter(tuple(self._listeners))


class Answer(Generic[F]):
    """A question a lower app asks an upper one: exactly one app answers, and asking before it registered
    is a configuration error, never a silent default."""

    def __init__(self, question: str):
        self.question = question
        self._answer: F | None = None

    def register(self, answer: F) -> None:
        if self._answer is not None and self._answer is not answer:
            raise ImproperlyConfigured(f"Two answers to {self.question!r}.")
        self._answer = answer

    @property
    def ask(self) -> F:
        if self._answer is None:
            raise ImproperlyConfigured(f"Nothing answers {self.question!r}: is its app installed?")
        return self._answer
