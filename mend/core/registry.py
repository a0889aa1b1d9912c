"""What core runs but the apps provide: the self-booking jobs a worker books at start, and the case key
store that sealed fields read.

`core` sits at the bottom of the layers (docs/layers.md) and imports no app, so the apps hand these in from
their `AppConfig.ready()`: a new app with a periodic job registers it there, and core does not change.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_job_schedules: list[Callable[[], object]] = []
_key_source: Callable[..., bytes] | None = None


def register_job_schedule(schedule: Callable[[], object]) -> None:
    """`schedule()` books the app's next run of a self-booking job if none is waiting; a worker calls it
    at start, so a crash mid-run never stops the job for good. Registering twice has no effect."""
    if schedule not in _job_schedules:
        _job_schedules.append(schedule)


def job_schedules() -> tuple[Callable[[], object], ...]:
    return tuple(_job_schedules)


def register_key_source(data_key: Callable[..., bytes]) -> None:
    """`data_key(case_id, *, create, model=...)` returns the case's data key, unwrapped; it raises
    at_rest.CaseDataDeleted once the key is destroyed and at_rest.KeyUnavailable when it cannot be opened.
    `model` is the key table, a migration's historical model when called from one."""
    global _key_source
    _key_source = data_key


def key_source() -> Callable[..., bytes]:
    if _key_source is None:
        raise ImproperlyConfigured("No case key store is registered: is mend.keystore in INSTALLED_APPS?")
    return _key_source
