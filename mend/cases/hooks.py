"""What the apps above cases do when a case changes, and what cases asks them before a step.

cases sits below consent, readiness, assessments, meetings and rights (docs/layers.md), so it never imports
them: each registers its part here from its AppConfig.ready(), and mend.cases.services and mend.cases.notices
call it where they once called the app, in the same transaction and the same order."""

from typing import TYPE_CHECKING, Protocol

from mend.core.hooks import Answer, Listeners

if TYPE_CHECKING:
    from mend.accounts.models import User
    from mend.cases.models import Case, Participant


class GuardsMissing(Protocol):
    def __call__(self, case: "Case", guard_names: tuple[str, ...]) -> list[str]: ...


class ConflictDeclared(Protocol):
    def __call__(self, case: "Case", user: "User") -> bool: ...


class WithdrawnIds(Protocol):
    def __call__(self, participants: list["Participant"]) -> set[int]: ...


class ToldOfLeaving(Protocol):
    def __call__(self, case: "Case", place: "Participant") -> list["Participant"]: ...


class CaseStep(Protocol):
    def __call__(self, *, actor: "User", case: "Case") -> object: ...


class PlaceStep(Protocol):
    def __call__(self, *, place: "Participant") -> object: ...


class PartyStep(Protocol):
    def __call__(self, *, actor: "User", party: "Participant") -> object: ...


# Asked (readiness): what the named guards of the stage table still wait for, in words; empty when they hold.
guards_missing: Answer[GuardsMissing] = Answer("the guards of a case's step")
# Asked (assessments): whether this staff member's latest declaration in this case declares a conflict.
conflict_declared: Answer[ConflictDeclared] = Answer("a staff member's conflict of interest in a case")
# Asked (consent): which of these people withdrew from taking part; no notice reaches them.
withdrawn_ids: Answer[WithdrawnIds] = Answer("who withdrew from taking part")
# Asked (readiness): the parties on their path who are told, with no name, that one person will not take part
# for now: everyone on the other side, and those on the same side who may see that person.
told_of_leaving: Answer[ToldOfLeaving] = Answer("who is told that one person will not take part")

# Told (meetings): a facilitator's place ended; they leave the case's open meetings at once.
place_left: Listeners[PlaceStep] = Listeners("a facilitator's place ended")
# Told (consent): another interpreter was attached to this party. Their consent to an interpreter was to the
# one they knew, so it ends: nobody new reads their words until they agree again.
interpreter_changed: Listeners[PartyStep] = Listeners("another interpreter attached to a party")
# Told (meetings): consent, choices, preparation or the team changed; meetings that no longer fit go.
case_rechecked: Listeners[CaseStep] = Listeners("a case is checked again")
# Told (meetings): the case paused; its scheduled meetings wait on hold.
case_paused: Listeners[CaseStep] = Listeners("a case paused")
# Told (meetings): the case is closing; nothing is scheduled ahead of it. Before the closing message.
case_closing: Listeners[CaseStep] = Listeners("a case is closing")
# Told (rights): the case closed, after the closing message; a case someone asked to delete is shredded.
case_closed: Listeners[CaseStep] = Listeners("a case closed")
