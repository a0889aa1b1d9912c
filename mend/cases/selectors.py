"""Reads for case pages and the API, each with a fixed number of queries whatever the data."""

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.db import connections
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull

from mend.accounts.models import Invitation, Membership, Program, User
from mend.audit.models import AuditEvent
from mend.cases import access
from mend.cases.models import (
    FACILITATING_ROLES,
    AssignmentRequest,
    Case,
    HarmCategory,
    Notice,
    Participant,
    Stage,
)
from mend.cases.notices import text_of

PAGE_SIZE = 25
# The case list counts matching cases up to this many, and beyond says only that there are more: an exact
# count of a large list costs a read of every row in it.
COUNT_CAP = 1000


# Pages of the case list are reached by cursor, not by number: a cursor names the last (or first) case of
# the page before, by its place in the order (updated_at, id), so every page is read from where the last
# one ended, at the same cost whatever its depth. Its text is opaque to clients; what it names is checked
# like any input, and it opens nothing: the cases shown are still only those the user runs.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]{4,52}")  # base64 of at most 38 characters
_CURSOR_PAYLOAD = re.compile(r"(-?[0-9]{1,18})\.([0-9]{1,19})")
_LOWEST, _HIGHEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Cursor:
    updated_at: datetime
    pk: int


def cursor_of(case: Case) -> str:
    payload = f"{(case.updated_at - _EPOCH) // _MICROSECOND}.{case.pk}"
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


def read_cursor(text: str) -> Cursor:
    """The place a cursor names; ValueError when the text is not one that cursor_of makes."""
    match = None
    if _CURSOR_TEXT.fullmatch(text):
        try:
            payload = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            payload = ""
        match = _CURSOR_PAYLOAD.fullmatch(payload)
    if match is None:
        raise ValueError("not a cursor")
    microseconds, pk = int(match[1]), int(match[2])
    try:
        updated_at = _EPOCH + microseconds * _MICROSECOND
    except OverflowError:
        raise ValueError("not a cursor") from None
    if not 1 <= pk <= 2**63 - 1 or not _LOWEST < updated_at < _HIGHEST:
        raise ValueError("not a cursor")
    return Cursor(updated_at, pk)


@dataclass
class CasePage:
    cases: list[Case]
    count: int  # exact up to COUNT_CAP; COUNT_CAP when there are more
    count_is_exact: bool
    older: str | None  # the cursor of the next page down the list, if there is one
    newer: str | None  # the cursor of the page above, if this is not the top of the list
    newest: bool  # whether the page starts at the newest matching case


def case_page(
    *,
    user: User,
    stage: str = "",
    category: str = "",
    facilitator_id: int | None = None,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> CasePage:
    """A page of the cases the user runs, newest change first: the page after a cursor (older cases), the
    page before one (newer cases), or the newest page. Two queries whatever the page or the number of cases,
    and one more for the facilitators' names; each stops once it has a page of rows, or COUNT_CAP + 1.

    The first query reads the ids of the cases the user runs from their own rows (places, overseen
    programs), at most COUNT_CAP + 1 from each, and with filters counts those that match, capped too. It
    picks the page's form: for a user who runs at most COUNT_CAP cases, the page reads those few by key and
    sorts them; for one who runs more, it walks an index of the cases newest first from the cursor, testing
    each case as it goes (the probed form of the access rule), and stops after a page. A facilitator filter
    that leaves few of many cases starts from that facilitator's places instead."""
    if not user.is_authenticated or not user.is_staff_member:
        return CasePage(cases=[], count=0, count_is_exact=True, older=None, newer=None, newest=True)
    on_case = {field: value for field, value in (("stage", stage), ("harm_category", category)) if value}
    runs = _capped_union(_own_rows(user))
    if not on_case and facilitator_id is None:
        ids = _ids(runs)
        matching = len(ids)
    else:
        ids, matching = _ids_and_matching(
            runs=runs,
            few=_capped_union(_own_rows(user, on_case, facilitator_id)),
            many=(
                _places_of(facilitator_id, user, on_case)
                if facilitator_id
                else _walk(user, on_case, None).values("pk")
            )[: COUNT_CAP + 1],
        )
    if len(ids) <= COUNT_CAP:
        # A literal list of keys: no planner mistakes how few rows it names.
        cases = Case.objects.filter(pk__in=ids, **on_case)
        if facilitator_id:
            cases = cases.filter(_facilitated_by(facilitator_id, case="pk"))
    elif facilitator_id and matching <= COUNT_CAP:
        cases = Case.objects.filter(pk__in=_places_of(facilitator_id, user, on_case)[: COUNT_CAP + 1])
    else:
        cases = _walk(user, on_case, facilitator_id)
    if after is not None:
        cases = cases.filter(
            Q(updated_at__lt=after.updated_at) | Q(updated_at=after.updated_at, pk__lt=after.pk),
            updated_at__lte=after.updated_at,
        )
    elif before is not None:
        cases = cases.filter(
            Q(updated_at__gt=before.updated_at) | Q(updated_at=before.updated_at, pk__gt=before.pk),
            updated_at__gte=before.updated_at,
        )
    order = ("updated_at", "pk") if before is not None else ("-updated_at", "-pk")
    rows = list(cases.order_by(*order)[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = _with_facilitators(with_labels(rows[:PAGE_SIZE]))
    if before is not None:
        rows.reverse()
        has_older, has_newer = True, more
    else:
        has_older, has_newer = more, after is not None
    return CasePage(
        cases=rows,
        count=min(matching, COUNT_CAP),
        count_is_exact=matching <= COUNT_CAP,
        older=cursor_of(rows[-1]) if rows and has_older else None,
        newer=cursor_of(rows[0]) if rows and has_newer else None,
        newest=(after is None and before is None) or (before is not None and bool(rows) and not more),
    )


def _facilitating(user_id: int) -> QuerySet[Participant]:
    return Participant.objects.filter(user_id=user_id, role__in=FACILITATING_ROLES, removed_at__isnull=True)


class Facilitator(NamedTuple):
    pseudonym: str
    role: str


def _with_facilitators(cases: list[Case]) -> list[Case]:
    """Gives each case its current facilitators in one query: their pseudonyms and roles, all a list shows."""
    by_case: dict[int, list[Facilitator]] = {case.pk: [] for case in cases}
    places = (
        Participant.objects.filter(case_id__in=by_case, role__in=FACILITATING_ROLES, removed_at__isnull=True)
        .order_by("pk")
        .values_list("case_id", "pseudonym", "role")
    )
    for case_id, pseudonym, role in places if by_case else ():
        by_case[case_id].append(Facilitator(pseudonym, role))
    for case in cases:
        case.facilitators = by_case[case.pk]
    return cases


def with_labels(cases: list[Case]) -> list[Case]:
    """Gives each case the words for its stage and kind of harm, translated once for the list rather than
    for every row (get_FOO_display translates every choice of the field on each call)."""
    stages = {value: str(label) for value, label in Stage.choices}
    kinds = {value: str(label) for value, label in HarmCategory.choices}
    for case in cases:
        case.stage_label = stages.get(case.stage, case.stage)
        case.category_label = kinds.get(case.harm_category, case.harm_category)
    return cases


def _facilitated_by(facilitator_id: int, *, case: str) -> IsNull:
    """Whether that facilitator has a current place in the case whose id is at `case`: one key lookup, as a
    value rather than EXISTS, which PostgreSQL would hash whole (see access.managed_case_test)."""
    place = _facilitating(facilitator_id).filter(case=OuterRef(case)).values("pk")[:1]
    return IsNull(Subquery(place), False)


def _own_rows(user: User, on_case: dict | None = None, facilitator_id: int | None = None) -> list[QuerySet]:
    """The ids of the matching cases, read from the user's own rows (driven form): one subquery per part."""
    on_case = on_case or {}
    overseen, places = access.managed_case_sources(user)
    overseen = overseen.filter(**on_case)
    places = places.filter(**{f"case__{field}": value for field, value in on_case.items()})
    if facilitator_id:
        overseen = overseen.filter(_facilitated_by(facilitator_id, case="pk"))
        places = places.filter(_facilitated_by(facilitator_id, case="case_id"))
    return [overseen.values("pk"), places.values("case_id")]


def _places_of(facilitator_id: int, user: User, on_case: dict) -> QuerySet:
    """The ids of the matching cases, read from the places of the facilitator the list is filtered by."""
    return (
        _facilitating(facilitator_id)
        .filter(
            access.managed_case_test(user, through="case__"),
            **{f"case__{field}": value for field, value in on_case.items()},
        )
        .values("case_id")
    )


def _walk(user: User, on_case: dict, facilitator_id: int | None) -> QuerySet[Case]:
    """The matching cases, each tested as it is read (probed form), for a walk down an index."""
    cases = Case.objects.filter(access.managed_case_test(user), **on_case)
    if facilitator_id:
        cases = cases.filter(_facilitated_by(facilitator_id, case="pk"))
    return cases


def _capped_union(parts: list[QuerySet]) -> QuerySet:
    """The union of the parts, reading at most COUNT_CAP + 1 ids from each: enough to count to the cap."""
    capped = [Case.objects.filter(pk__in=part[: COUNT_CAP + 1]).values("pk") for part in parts]
    return capped[0].union(*capped[1:])


def _ids(queryset: QuerySet) -> list[int]:
    """The ids a values("pk") queryset names, read as plain tuples: up to a thousand of them per page."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(*queryset.query.sql_with_params())
        return [pk for (pk,) in cursor.fetchall()]


def _ids_and_matching(*, runs: QuerySet, few: QuerySet, many: QuerySet) -> tuple[list[int], int]:
    """In one query, the ids of the cases the user runs (`runs`), and how many of them match the filters:
    counted from the user's own rows (`few`) when they run few cases, else from `many`; the database reads
    only the branch it takes. Raw SQL around what the ORM compiled, with its parameters kept apart:
    choosing between two counts in the database is beyond what the ORM can say."""
    runs_sql, runs_params = runs.query.sql_with_params()
    few_sql, few_params = few.query.sql_with_params()
    many_sql, many_params = many.query.sql_with_params()
    sql = (
        f"WITH runs AS ({runs_sql}) SELECT runs.pk, CASE WHEN (SELECT COUNT(*) FROM runs) <= %s "  # noqa: S608
        f"THEN (SELECT COUNT(*) FROM ({few_sql}) few) ELSE (SELECT COUNT(*) FROM ({many_sql}) many) END "
        "FROM runs"
    )
    with connections[runs.db].cursor() as cursor:
        cursor.execute(sql, (*runs_params, COUNT_CAP, *few_params, *many_params))
        rows = cursor.fetchall()
    # No row when the user runs no case, and then none matches either.
    return [pk for pk, _matching in rows], rows[0][1] if rows else 0


def facilitators_visible_to(user: User) -> QuerySet[User]:
    programs = Membership.objects.filter(user=user).values("program_id")
    return (
        User.objects.filter(
            memberships__program__in=programs,
            memberships__role__in=[
                Membership.Role.FACILITATOR,
                Membership.Role.COORDINATOR,
                Membership.Role.ADMIN,
            ],
        )
        .distinct()
        .order_by("display_name")
    )


def case_detail(case: Case) -> dict:
    participants = list(
        case.participants.filter(removed_at__isnull=True)
        .select_related("supports")
        .prefetch_related(Prefetch("invitations", queryset=Invitation.objects.order_by("-created_at")))
        .order_by("pk")
    )
    for place in participants:
        place.role_word = case.program.word_for(place.role)
    events = case_events(case)
    return {"participants": participants, "events": events}


def case_events(case: Case, limit: int = 50) -> list[AuditEvent]:
    """The newest audit events of a case, for its timeline."""
    return list(AuditEvent.objects.filter(case=case).select_related("actor").order_by("-seq")[:limit])


def programs_administered(user: User) -> list:
    return list(Program.objects.filter(memberships__user=user, memberships__role=Membership.Role.ADMIN))


def notices_for_staff(user: User, limit: int = 10) -> list[dict]:
    """Neutral notices addressed to the user's places in the cases they facilitate, newest first."""

    notices = (
        # Only in programs they still belong to: a place left behind by someone who left shows nothing.
        Notice.objects.filter(
            recipient__user=user,
            recipient__removed_at__isnull=True,
            case__program__memberships__user=user,
        )
        .select_related("about", "case")
        .order_by("-created_at")[:limit]
    )
    return [{"at": n.created_at, "text": text_of(n), "case": n.case} for n in notices]


def waiting_for(user: User, limit: int = 10) -> list[Case]:
    """Cases on the user's desk, longest waiting first: referrals to accept, and cases paused that may need
    a check-in. Read like the case list: by key from the user's own rows when they run few cases, else down
    each stage's index, testing each case as it goes (probed form), a few rows per stage."""
    if not user.is_authenticated or not user.is_staff_member:
        return []
    stages, order = ("referral", "paused"), ("updated_at", "pk")
    ids = _ids(_capped_union(_own_rows(user)))
    if len(ids) <= COUNT_CAP:
        return list(Case.objects.filter(pk__in=ids, stage__in=stages).order_by(*order)[:limit])
    waiting = [
        case for stage in stages for case in _walk(user, {"stage": stage}, None).order_by(*order)[:limit]
    ]
    return sorted(waiting, key=lambda case: (case.updated_at, case.pk))[:limit]


def facilitator_candidates(case: Case) -> list[User]:
    """Staff of the case's program who could facilitate it and are not in it yet."""
    in_case = case.participants.filter(removed_at__isnull=True, user__isnull=False).values("user_id")
    return list(
        User.objects.filter(
            is_active=True,
            memberships__program=case.program,
            memberships__role__in=[
                Membership.Role.FACILITATOR,
                Membership.Role.COORDINATOR,
                Membership.Role.ADMIN,
            ],
        )
        .exclude(pk__in=in_case)
        .order_by("display_name")
    )


def pending_assignment_requests(case: Case) -> list:
    """Requests of staff to join the case's team themselves, waiting for a colleague's decision; read only
    when the case says it has some (access.access_case annotates it), so the page costs nothing more."""

    if not getattr(case, "has_assignment_requests", True):
        return []
    return list(
        AssignmentRequest.objects.filter(case=case, outcome=AssignmentRequest.Outcome.PENDING)
        .select_related("requested_by")
        .order_by("created_at")
    )
