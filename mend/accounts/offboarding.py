"""Access that ends everywhere at once: a staff member leaving a program or closing their account loses
their places, sessions, API tokens, open sockets and recipient status in one step, and every socket checks
its person again on each frame (docs/hardening.md, "Offboarding")."""

from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import ApiToken, Membership, User
from mend.audit.codes import AuditCode
from mend.core.errors import Conflict, DomainError
from mend.core.realtime import person_group

# What ends with a staff member's access, app by app. Accounts sits below cases and circles in the layers
# (docs/layers.md), so each app that gives staff places registers how to end them, in its
# AppConfig.ready(): `end(actor=, user=, program_id=, reason=)` ends them (each audited) and returns how
# many it ended; the audit event of the leaving reports the count of those registered with counted=True
# (case places), as it always has.
_places_enders: list[tuple[Callable[..., int], bool]] = []


def register_places_end(end: Callable[..., int], *, counted: bool) -> None:
    if all(registered is not end for registered, _counted in _places_enders):
        _places_enders.append((end, counted))


# --- every socket, on every frame ------------------------------------------------------------------------


def socket_still_signed_in(session, user: User) -> bool:
    """Whether the session a socket opened with still signs this person in, read afresh: the session row
    exists and has not expired, it names this person, the account is active, and the session's auth hash
    matches the account's now (a new passphrase, as after a recovery, changes it). One query, the same
    count as the bare `session.exists()` it replaces. The socket's user object is brought up to date."""
    key = session.session_key
    if not key or user is None or not user.is_authenticated:
        return False
    current = User.objects.filter(pk=user.pk, is_active=True).values("password")[:1]
    row = (
        Session.objects.filter(session_key=key, expire_date__gt=timezone.now())
        .annotate(password=Subquery(current))
        .values_list("session_data", "password")
        .first()
    )
    if row is None or row[1] is None:
        return False
    data = SessionStore().decode(row[0])
    if str(data.get(SESSION_KEY)) != str(user.pk):
        return False
    user.password = row[1]  # so that the hash below is the account's as it is now
    stored = data.get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(stored, candidate) for candidate in hashes)


# --- signing a person out everywhere ---------------------------------------------------------------------


def _after_commit_to_person(user_id: int, event_type: str) -> None:
    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(person_group(user_id), {"type": event_type})

    transaction.on_commit(send)


def sockets_close(user: User) -> None:
    """Closes every open socket of this person, on any server process, once the change commits."""
    _after_commit_to_person(user.pk, "person.signed_out")


def sockets_recheck(user: User) -> None:
    """Every open socket of this person checks again, once the change commits, whether they may still be
    where it is open, and closes if not (a membership ended, a place with it)."""
    _after_commit_to_person(user.pk, "person.access_changed")


def sessions_end_all(user: User) -> int:
    """Deletes every session of this person and closes their sockets: they are signed out everywhere.
    Sessions are stored without an index by person, so the live ones are read and decoded; they last at
    most MEND_SESSION_MAX_HOURS, so there are as many as people signed in today. Returns how many ended."""
    store = SessionStore()
    live = Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", "session_data")
    theirs = [
        key for key, data in live.iterator() if str(store.decode(data).get(SESSION_KEY)) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=theirs).delete()
    sockets_close(user)
    return len(theirs)


def _api_tokens_revoke(user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


# --- the services ----------------------------------------------------------------------------------------


def _admin_of(actor: User, program_id: int) -> bool:
    return (
        actor.is_active
        and actor.is_staff_member
        and Membership.objects.filter(user=actor, program_id=program_id, role=Membership.Role.ADMIN).exists()
    )


def _places_end(*, actor: User, user: User, program_id: int | None, reason: str) -> int:
    """Ends the person's places (in one program, or in all) in every app that registered them, in the
    order of INSTALLED_APPS (cases, then circles). Returns how many case places ended."""
    ended = 0
    for end, counted in _places_enders:
        count = end(actor=actor, user=user, program_id=program_id, reason=reason)
        ended += count if counted else 0
    return ended


@transaction.atomic
def membership_end(*, actor: User, membership: Membership) -> None:
    """Removes a staff member from a program: their places in its cases end, they stop being recipients of
    its conversations, and their open sockets check again at once. Someone left with no program at all is
    also signed out everywhere and their API tokens are revoked."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "program")
        .filter(pk=membership.pk)
        .first()
    )
    if membership is None:  # removed a moment ago: the same form sent twice, or by two admins at once
        raise Conflict(_("This person has already been removed from this program."))
    user, program = membership.user, membership.program
    if not _admin_of(actor, program.pk):
        raise DomainError(_("Only an admin of this program can remove people from it."))
    if user.pk == actor.pk:
        raise DomainError(_("You cannot remove yourself. Ask another admin of this program."))
    places = _places_end(actor=actor, user=user, program_id=program.pk, reason="left_program")
    audit.record(
        actor=actor,
        code=AuditCode.MEMBERSHIP_ENDED,
        target=membership,
        program=program,
        data={"role": membership.role, "user": user.pk, "places_ended": places},
    )
    membership.delete()
    if not Membership.objects.filter(user=user).exists():
        # Here the account stays active with the same password, so its sessions would go on signing in:
        # they are deleted (recovery and deactivation need not: their sessions stop matching by themselves).
        sessions_end_all(user)
        _api_tokens_revoke(user)
    else:
        sockets_recheck(user)


def deactivation_refused(actor: User, user: User) -> str:
    """Why this admin may not close this account (empty: they may). An account that belongs to another
    program too is closed only by someone who is admin of every one of them."""
    if user.pk == actor.pk:
        return _("You cannot deactivate your own account. Ask another admin of this program.")
    if not user.is_staff_member:
        return _("Only staff accounts are closed here.")
    programs = set(Membership.objects.filter(user=user).values_list("program_id", flat=True))
    if not programs or not all(_admin_of(actor, program_id) for program_id in programs):
        return _(
            "This person also belongs to a program you do not run. Remove them from this program instead, "
            "or ask an admin of every program they belong to."
        )
    return ""


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """Closes a staff account: it can no longer sign in, every place it held ends, its sessions and sockets
    end at once, its API tokens are revoked and it is no longer a recipient anywhere. Memberships stay, so
    the program's list still shows who it was."""
    user = User.objects.select_for_update().get(pk=user.pk)
    refused = deactivation_refused(actor, user)
    if refused:
        raise DomainError(refused)
    if not user.is_active:
        return user
    places = _places_end(actor=actor, user=user, program_id=None, reason="account_closed")
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens = _api_tokens_revoke(user)
    # Signed out everywhere without reading every session: an inactive account's sessions no longer sign
    # anyone in (ModelBackend.get_user refuses it at the next request; sockets check is_active too).
    sockets_close(user)
    audit.record(
        actor=actor,
        code=AuditCode.ACCOUNT_DEACTIVATED,
        target=user,
        data={"places_ended": places, "tokens_revoked": tokens},
    )
    return user
