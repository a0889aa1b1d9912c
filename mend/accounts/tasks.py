"""Background jobs for accounts, run by the job worker."""

from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks import task


@task()
def sessions_purge() -> int:
    """Drops expired sign-in sessions, so that nothing about a past visit lingers in the database."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
