"""What the apps above consent do when a person's consent or choices change.

consent sits below meetings and agreements (docs/layers.md), so it never imports them: each registers its part
here from its AppConfig.ready(), and mend.consent.services calls it where it once called the app, in the
same transaction and the same order."""

from typing import TYPE_CHECKING, Protocol

from mend.core.hooks import Listeners

if TYPE_CHECKING:
    from mend.accounts.models import User
    from mend.cases.models import Participant


class PersonStep(Protocol):
    def __call__(self, *, actor: "User", place: "Participant") -> object: ...


class ChoicesStep(Protocol):
    def __call__(self, *, place: "Participant") -> object: ...


# Told (meetings, agreements): the person withdrew from taking part or was excluded; they leave the meetings
# ahead (a meeting the others cannot hold without them is cancelled); a version waiting for signatures is
# checked again.
took_part_withdrawn: Listeners[PersonStep] = Listeners("a person withdrew from taking part")
# Told (meetings, agreements): a party takes a break; they leave the meetings ahead (one the others cannot
# hold without them waits on hold); a version waiting for signatures is checked again.
break_taken: Listeners[PersonStep] = Listeners("a party takes a break")
# Told (agreements): the person harmed changed their choices; waiting progress updates follow them.
choices_changed: Listeners[ChoicesStep] = Listeners("the person harmed changed their choices")
# Told (meetings): the person gave a consent; the interpreters who may now come with a party join the meetings
# ahead of that party (the party agreed to have one, or the interpreter agreed to take part, after a meeting
# was scheduled).
consent_given: Listeners[PersonStep] = Listeners("a person gave a consent")
