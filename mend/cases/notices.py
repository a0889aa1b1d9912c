"""Short, neutral notices to the people in a case. They never carry reasons or what anyone wrote."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mend.cases import hooks
from mend.cases.models import FACILITATING_ROLES, Case, Notice, Participant, Role
from mend.core import i18n


def _joined(case: Case):
    """People who can be told things: joined, still in the case, and neither withdrawn nor marked as not
    in the process (nothing reaches them)."""
    people = list(case.participants.filter(removed_at__isnull=True, joined_at__isnull=False))
    gone = hooks.withdrawn_ids.ask(people)
    return [p for p in people if p.pk not in gone]


def _send(case: Case, recipients, kind: str, about: Participant | None = None) -> None:
    Notice.objects.bulk_create([Notice(case=case, recipient=r, kind=kind, about=about) for r in recipients])


def process_paused(*, case: Case, because_of: Participant) -> None:
    people = _joined(case)
    others = [p for p in people if p.pk != because_of.pk and p.role not in FACILITATING_ROLES]
    _send(case, others, Notice.Kind.PROCESS_PAUSED)
    _send(
        case,
        [p for p in people if p.role in FACILITATING_ROLES],
        Notice.Kind.SUPPORT_PROMPT,
        about=because_of,
    )


def one_not_taking_part(*, case: Case, who: Participant) -> None:
    """A party stepped back (stopped, took a break, or staff marked them as not in the process) while the case
    goes on for the others. The facilitators hear who, to offer support; the parties who had contact with
    them hear only that one person will not take part for now: never who or why. Nothing reaches the
    person."""
    people = _joined(case)
    told = {p.pk for p in hooks.told_of_leaving.ask(case, who)}
    _send(
        case,
        [p for p in people if p.pk in told and p.pk != who.pk and p.role not in FACILITATING_ROLES],
        Notice.Kind.ONE_NOT_TAKING_PART,
    )
    _send(
        case,
        [p for p in people if p.role in FACILITATING_ROLES],
        Notice.Kind.SUPPORT_PROMPT,
        about=who,
    )


def stepped_back(*, case: Case, who: Participant) -> None:
    """Someone other than a party stopped taking part: only the facilitators hear, to offer support."""
    _send(
        case,
        [p for p in _joined(case) if p.role in FACILITATING_ROLES],
        Notice.Kind.SUPPORT_PROMPT,
        about=who,
    )


def ready_to_continue(*, case: Case, who: Participant) -> None:
    _send(
        case,
        [p for p in _joined(case) if p.role in FACILITATING_ROLES],
        Notice.Kind.READY_TO_CONTINUE,
        about=who,
    )


def mode_chosen(*, case: Case, mode: str) -> None:
    kind = {"indirect": Notice.Kind.MODE_INDIRECT, "direct": Notice.Kind.MODE_DIRECT}.get(mode)
    if kind is None:
        return
    _send(case, [p for p in _joined(case) if p.role == Role.RESPONSIBLE_PARTY], kind)


def case_closed(*, case: Case) -> None:
    _send(case, [p for p in _joined(case) if p.role == Role.HARMED_PARTY], Notice.Kind.CASE_CLOSED)


def team_joined(*, case: Case, place: Participant) -> None:
    """Someone from the program's office joined the case's team on their own request, with a colleague's
    approval: everyone taking part is told who, so that nobody reads along unannounced (the team sees it
    in the case's timeline)."""
    told = [p for p in _joined(case) if p.role not in FACILITATING_ROLES]
    _send(case, told, Notice.Kind.TEAM_JOINED, about=place)


def meeting_reminder(*, case: Case, places) -> None:
    """A meeting is coming up: no time, no kind, no names (mend.circles.meetings.remind)."""
    _send(case, list(places), Notice.Kind.MEETING_REMINDER)


def item_overdue(*, case: Case, owner: Participant) -> None:
    """The owner of an overdue item is reminded, and their facilitators hear that something is overdue:
    no words of the item, no date, no amount (mend.agreements.reminders)."""
    _send(case, [owner], Notice.Kind.REMINDER)
    _send(
        case,
        [p for p in _joined(case) if p.role in FACILITATING_ROLES and p.pk != owner.pk],
        Notice.Kind.ITEM_OVERDUE,
        about=owner,
    )


def _progress_text(figures: dict | None) -> str:
    """A count and nothing else: how many items are done and checked, never which or by whom."""
    try:
        done, total = int(figures["done"]), int(figures["of"])
    except (TypeError, KeyError, ValueError):
        return _("There is news about the agreement. Your facilitator can tell you more.")
    return ngettext(
        "There is news about the agreement: %(done)d of %(total)d item is done and checked.",
        "There is news about the agreement: %(done)d of %(total)d items are done and checked.",
        total,
    ) % {"done": done, "total": total}


def text_of(notice: Notice) -> str:
    """The notice in the reader's language, as HTML: the name in it is escaped and isolated in a <bdi>."""
    # A person who deleted their information has no name left: the sentence still reads whole.
    name = (notice.about.pseudonym if notice.about_id else "") or _("A person in this case")
    if notice.kind == Notice.Kind.PROGRESS_UPDATE:
        return _progress_text(notice.figures)
    texts = {
        Notice.Kind.PROCESS_PAUSED: _("The process is paused for now. Your facilitator will be in touch."),
        Notice.Kind.SUPPORT_PROMPT: i18n.isolated(
            _("%(name)s has stepped back for now. You may want to offer them support."), name=name
        ),
        Notice.Kind.READY_TO_CONTINUE: i18n.isolated(_("%(name)s is ready to continue."), name=name),
        Notice.Kind.MODE_INDIRECT: _("The other person has chosen to communicate through your facilitator."),
        Notice.Kind.MODE_DIRECT: _("The other person is open to meeting you, with your facilitator there."),
        Notice.Kind.CASE_CLOSED: _(
            "This process has now ended. Thank you for everything you put into it. "
            "The program is still here if you would like support."
        ),
        Notice.Kind.AGREEMENT_COMPLETE: _(
            "The agreement has been completed. Your facilitator can tell you more if you would like."
        ),
        Notice.Kind.ONE_NOT_TAKING_PART: _("One person will not take part for now."),
        Notice.Kind.TEAM_JOINED: i18n.isolated(
            _(
                "%(name)s has joined the facilitators of this process. From now on they also receive the "
                "messages you send to your facilitators."
            ),
            name=name,
        ),
        Notice.Kind.MEETING_REMINDER: _("You have a meeting coming up. Have a look when you are ready."),
        Notice.Kind.REMINDER: _("Something in your agreement is due. When you are ready, have a look at it."),
        Notice.Kind.ITEM_OVERDUE: i18n.isolated(
            _("%(name)s has an item in the agreement that is past its due date. You may want to check in."),
            name=name,
        ),
    }
    return texts[notice.kind]
