"""The audit events of a case, told in plain words for the case page."""

from django.utils.translation import gettext as _

from mend.cases.models import Stage


def _stage(value: str) -> str:
    try:
        return Stage(value).label.lower()
    except ValueError:
        return value


def describe(event, program) -> str:
    # An account closed at its owner's request keeps no name.
    who = (event.actor.display_name or _("Someone")) if event.actor else _("Mend")
    data = event.payload
    role = program.word_for(data.get("role", "")) if data.get("role") else ""
    if event.code == "case.created":
        return _("%(who)s opened the case.") % {"who": who}
    if event.code == "case.facilitator_assigned":
        return _("%(who)s assigned a %(role)s.") % {"who": who, "role": role}
    if event.code == "case.stage_changed":
        if data.get("to") == "paused":
            return _("%(who)s paused the case.") % {"who": who}
        return _("%(who)s moved the case from %(from)s to %(to)s.") % {
            "who": who,
            "from": _stage(data.get("from", "")),
            "to": _stage(data.get("to", "")),
        }
    if event.code == "participant.invited":
        return _("%(who)s invited a %(role)s.") % {"who": who, "role": role}
    if event.code == "participant.joined":
        return _("%(who)s joined as %(role)s.") % {"who": who, "role": role}
    if event.code == "case.facilitator_unassigned" and data.get("reason"):
        # Ended by an admin (mend.accounts.offboarding): the person left the program or their account closed.
        if data["reason"] == "account_closed":
            text = _("%(who)s ended the place of a %(role)s whose account was closed.")
        else:
            text = _("%(who)s ended the place of a %(role)s who left the program.")
        return text % {"who": who, "role": role}
    if event.code == "case.assignment_requested":
        return _("%(who)s asked to join the case as %(role)s.") % {"who": who, "role": role}
    if event.code in ("case.assignment_approved", "case.assignment_declined", "case.assignment_withdrawn"):
        texts = {
            "case.assignment_approved": _("%(who)s approved a colleague's request to join as %(role)s."),
            "case.assignment_declined": _("%(who)s declined a colleague's request to join as %(role)s."),
            "case.assignment_withdrawn": _("%(who)s withdrew a request to join as %(role)s."),
        }
        return texts[event.code] % {"who": who, "role": role}
    if event.code == "invitation.revoked":
        return _("%(who)s withdrew an invitation link.") % {"who": who}
    simple = {
        "consent.given": _("%(who)s gave consent: %(what)s."),
        "consent.withdrawn": _("%(who)s withdrew consent: %(what)s."),
        "participant.paused": _("%(who)s took a break."),
        "participant.resumed": _("%(who)s is back from a break."),
        "choices.updated": _("%(who)s updated their choices."),
        "assessment.signed_off": _("%(who)s signed off an assessment of a %(role)s: %(what)s."),
        "acknowledgment.submitted": _("%(who)s wrote an acknowledgment of the harm."),
        "acknowledgment.confirmed": _("%(who)s confirmed an acknowledgment."),
        "safety_plan.saved": _("%(who)s saved a safety plan."),
        "conflict.declared": _("%(who)s made a conflict-of-interest declaration."),
        "case.facilitator_unassigned": _("%(who)s stepped off the case."),
        "session.scheduled": _("%(who)s scheduled a session."),
        "session.cancelled": _("%(who)s cancelled a session."),
        "session.held": _("A session went on hold."),
        "session.restored": _("%(who)s brought a session back."),
        "participant.data_deleted": _("%(who)s asked for their information to be deleted."),
        "participant.data_exported": _("%(who)s downloaded their information."),
        "agreement.drafted": _("%(who)s started a draft of the agreement."),
        "agreement.opened": _("%(who)s asked the parties to sign the agreement."),
        "agreement.withdrawn": _("%(who)s took the agreement back to a draft."),
        "agreement.signed": _("%(who)s signed the agreement as %(role)s."),
        "agreement.declined": _("%(who)s chose not to sign the agreement."),
        "agreement.in_force": _("Everyone has signed: the agreement is in force."),
        "agreement.closed": _("%(who)s recorded how the agreement ended: %(what)s."),
        "commitment.submitted": _("%(who)s marked an item of the agreement done."),
        "commitment.verified": _("%(who)s checked an item of the agreement as done."),
        "commitment.more_needed": _("%(who)s asked for more on an item of the agreement."),
        "payment.recorded": _("%(who)s recorded a payment."),
        "checkin.scheduled": _("%(who)s planned a follow-up step."),
        "checkin.done": _("%(who)s marked a follow-up step done."),
        "case.keys_destroyed": _("The case's records were deleted for good."),
        "case.data_deleted": _("The case's records were deleted for good."),
    }
    if event.code in simple:
        what = str(data.get("scope") or data.get("outcome") or "").replace("_", " ")
        if "%(role)s" in simple[event.code] and not role:
            role = _("someone in the case")
        return simple[event.code] % {"who": who, "role": role, "what": what}
    return _("%(who)s: %(code)s") % {"who": who, "code": event.code}


def timeline(events, program) -> list[dict]:
    return [{"at": e.at, "text": describe(e, program)} for e in events]
