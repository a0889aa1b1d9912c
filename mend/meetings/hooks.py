"""What the apps above meetings do when something happens at a meeting.

circles sits above meetings (docs/layers.md) and keeps the staff alerts (mend.circles.models.StaffAlert),
for case meetings as for circle meetings; meetings never imports it: circles registers here from its
AppConfig.ready(), and mend.meetings.services calls it where it once wrote the alert itself."""

from typing import TYPE_CHECKING, Protocol

from mend.core.hooks import Listeners

if TYPE_CHECKING:
    from mend.meetings.models import Meeting


class NeedsSupport(Protocol):
    def __call__(self, *, session: "Meeting", user_ids: list[int], program_id: int) -> object: ...


# Told (circles): someone at this meeting may need support; each of these staff gets one alert for it.
needs_support: Listeners[NeedsSupport] = Listeners("someone may need support after a meeting")
