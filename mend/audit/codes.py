"""Every audit code Mend records, in one place, with the plain words a case's timeline shows for it.

`mend.audit.services.record` refuses a code that is not here, so a new act cannot slip into the chain
under a name nobody reviewed; `tests/audit/test_codes.py` checks that every code recorded in `mend/` is
here and that every code here is still recorded (or kept, below, so that old events still read).
The values are the strings stored in the chain: never change one, or old events stop matching it.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class AuditCode(StrEnum):
    ACCOUNT_DEACTIVATED = "account.deactivated"
    ACCOUNT_KEYS_CREATED = "account.keys_created"
    ACCOUNT_KEYS_REPLACED = "account.keys_replaced"
    ACCOUNT_KEYS_REWRAPPED = "account.keys_rewrapped"
    ACCOUNT_LOCKED = "account.locked"
    ACCOUNT_RECOVERED = "account.recovered"
    ACCOUNT_SECOND_FACTOR_ENROLLED = "account.second_factor_enrolled"
    ACCOUNT_SIGN_IN_CONVERTED = "account.sign_in_converted"
    ACKNOWLEDGMENT_CONFIRMED = "acknowledgment.confirmed"
    ACKNOWLEDGMENT_SUBMITTED = "acknowledgment.submitted"
    AGREEMENT_CLOSED = "agreement.closed"
    AGREEMENT_DECLINED = "agreement.declined"
    AGREEMENT_DRAFTED = "agreement.drafted"
    AGREEMENT_IN_FORCE = "agreement.in_force"
    AGREEMENT_OPENED = "agreement.opened"
    AGREEMENT_SIGNED = "agreement.signed"
    AGREEMENT_WITHDRAWN = "agreement.withdrawn"
    API_TOKEN_CREATED = "api_token.created"
    API_TOKEN_REVOKED = "api_token.revoked"
    ASSESSMENT_QUESTIONS_CHANGED = "assessment.questions_changed"
    ASSESSMENT_SIGNED_OFF = "assessment.signed_off"
    ATTENDANCE_CHECKED_IN = "attendance.checked_in"
    ATTENDANCE_CHECKED_OUT = "attendance.checked_out"
    ATTENDANCE_RECORDED = "attendance.recorded"
    CASE_ASSIGNMENT_APPROVED = "case.assignment_approved"
    CASE_ASSIGNMENT_DECLINED = "case.assignment_declined"
    CASE_ASSIGNMENT_REQUESTED = "case.assignment_requested"
    CASE_ASSIGNMENT_WITHDRAWN = "case.assignment_withdrawn"
    CASE_CREATED = "case.created"
    CASE_DATA_DELETED = "case.data_deleted"
    CASE_FACILITATOR_ASSIGNED = "case.facilitator_assigned"
    CASE_FACILITATOR_UNASSIGNED = "case.facilitator_unassigned"
    CASE_KEYS_DESTROYED = "case.keys_destroyed"
    CASE_STAGE_CHANGED = "case.stage_changed"
    CHECKIN_DONE = "checkin.done"
    CHECKIN_SCHEDULED = "checkin.scheduled"
    CHOICES_UPDATED = "choices.updated"
    CIRCLE_CLOSED = "circle.closed"
    CIRCLE_CREATED = "circle.created"
    CIRCLE_MEETING_SCHEDULED = "circle.meeting_scheduled"
    CIRCLE_MEMBER_ADDED = "circle.member_added"
    CIRCLE_MEMBER_REMOVED = "circle.member_removed"
    COMMITMENT_MORE_NEEDED = "commitment.more_needed"
    COMMITMENT_SUBMITTED = "commitment.submitted"
    COMMITMENT_VERIFIED = "commitment.verified"
    CONFLICT_DECLARED = "conflict.declared"
    CONSENT_GIVEN = "consent.given"
    CONSENT_TEXT_CHANGED = "consent.text_changed"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    DIALOGUE_READ_RECEIPTS_CHANGED = "dialogue.read_receipts_changed"
    DIALOGUE_RELAY_FORWARDED = "dialogue.relay_forwarded"
    DIALOGUE_RELAY_RETURNED = "dialogue.relay_returned"
    INTERPRETER_ATTACHED = "interpreter.attached"
    INTERPRETER_DETACHED = "interpreter.detached"
    INVITATION_REVOKED = "invitation.revoked"
    MEMBERSHIP_CREATED = "membership.created"
    MEMBERSHIP_ENDED = "membership.ended"
    MINUTES_SUBMITTED = "minutes.submitted"
    PARTICIPANT_DATA_DELETED = "participant.data_deleted"
    PARTICIPANT_DATA_EXPORTED = "participant.data_exported"
    PARTICIPANT_EXCLUDED = "participant.excluded"
    PARTICIPANT_INVITED = "participant.invited"
    PARTICIPANT_JOINED = "participant.joined"
    PARTICIPANT_PAUSED = "participant.paused"
    PARTICIPANT_READMITTED = "participant.readmitted"
    PARTICIPANT_RESUMED = "participant.resumed"
    PARTICIPANT_SETTINGS_CHANGED = "participant.settings_changed"
    PARTICIPANT_VISIBILITY_CHANGED = "participant.visibility_changed"
    PAYMENT_RECORDED = "payment.recorded"
    PROGRAM_CREATED = "program.created"
    PROGRAM_ROLE_WORDS_CHANGED = "program.role_words_changed"
    PROGRAM_SITE_NAME_CHANGED = "program.site_name_changed"
    SAFETY_PLAN_SAVED = "safety_plan.saved"
    SESSION_ATTENDEE_ADDED = "session.attendee_added"
    SESSION_ATTENDEE_LEFT = "session.attendee_left"
    SESSION_ATTENDEE_REMOVED = "session.attendee_removed"
    SESSION_BREAK_ENDED = "session.break_ended"
    SESSION_BREAK_STARTED = "session.break_started"
    SESSION_CANCELLED = "session.cancelled"
    SESSION_CONFERENCE_SET = "session.conference_set"
    SESSION_ENDED = "session.ended"
    SESSION_HELD = "session.held"
    SESSION_INVITATIONS_SENT = "session.invitations_sent"
    SESSION_INTERPRETER_ADDED = "session.interpreter_added"
    SESSION_OPENED = "session.opened"
    SESSION_RESTORED = "session.restored"
    SESSION_SCHEDULED = "session.scheduled"
    SESSION_SIDE_ROOM = "session.side_room"
    SESSION_SIDE_ROOM_ENDED = "session.side_room_ended"
    STAFF_ALERT_READ = "staff_alert.read"
    VETTING_RECORDED = "vetting.recorded"


# Codes no longer recorded that old events in the chain still carry: they stay registered so those
# events keep their words on the timeline. None yet; move a code here when its last recorder goes.
KEPT_FOR_OLD_EVENTS: frozenset[AuditCode] = frozenset()


class UnregisteredCode(ValueError):
    """A code that is not in `AuditCode`: add it there (with its words, if the timeline shows it)."""


def registered(code: str) -> AuditCode:
    try:
        return AuditCode(code)
    except ValueError:
        raise UnregisteredCode(
            f"audit code {code!r} is not registered: add it to mend.audit.codes.AuditCode"
        ) from None


@dataclass(frozen=True)
class Words:
    """How the timeline tells an event: `text` with %(who)s, %(role)s, %(what)s (and %(from)s, %(to)s).
    `someone` says that a missing role reads "someone in the case" rather than nothing."""

    text: str
    someone: bool = True


C = AuditCode

# The timeline's words, code by code; a code not here shows as "<who>: <code>".
TIMELINE: dict[AuditCode, Words] = {
    C.CASE_CREATED: Words(_("%(who)s opened the case."), someone=False),
    C.CASE_FACILITATOR_ASSIGNED: Words(_("%(who)s assigned a %(role)s."), someone=False),
    C.CASE_STAGE_CHANGED: Words(_("%(who)s moved the case from %(from)s to %(to)s."), someone=False),
    C.PARTICIPANT_INVITED: Words(_("%(who)s invited a %(role)s."), someone=False),
    C.PARTICIPANT_JOINED: Words(_("%(who)s joined as %(role)s."), someone=False),
    C.CASE_ASSIGNMENT_REQUESTED: Words(_("%(who)s asked to join the case as %(role)s."), someone=False),
    C.CASE_ASSIGNMENT_APPROVED: Words(
        _("%(who)s approved a colleague's request to join as %(role)s."), someone=False
    ),
    C.CASE_ASSIGNMENT_DECLINED: Words(
        _("%(who)s declined a colleague's request to join as %(role)s."), someone=False
    ),
    C.CASE_ASSIGNMENT_WITHDRAWN: Words(_("%(who)s withdrew a request to join as %(role)s."), someone=False),
    C.INVITATION_REVOKED: Words(_("%(who)s withdrew an invitation link."), someone=False),
    C.CONSENT_GIVEN: Words(_("%(who)s gave consent: %(what)s.")),
    C.CONSENT_WITHDRAWN: Words(_("%(who)s withdrew consent: %(what)s.")),
    C.PARTICIPANT_PAUSED: Words(_("%(who)s took a break.")),
    C.PARTICIPANT_RESUMED: Words(_("%(who)s is back from a break.")),
    C.PARTICIPANT_EXCLUDED: Words(_("%(who)s marked a %(role)s as not taking part for now.")),
    C.PARTICIPANT_READMITTED: Words(_("%(who)s is taking part again.")),
    C.PARTICIPANT_SETTINGS_CHANGED: Words(_("%(who)s changed the time zone or language of a %(role)s.")),
    C.PARTICIPANT_VISIBILITY_CHANGED: Words(_("%(who)s changed who on their side may see them.")),
    C.CHOICES_UPDATED: Words(_("%(who)s updated their choices.")),
    C.ASSESSMENT_SIGNED_OFF: Words(_("%(who)s signed off an assessment of a %(role)s: %(what)s.")),
    C.ACKNOWLEDGMENT_SUBMITTED: Words(_("%(who)s wrote an acknowledgment of the harm.")),
    C.ACKNOWLEDGMENT_CONFIRMED: Words(_("%(who)s confirmed an acknowledgment.")),
    C.SAFETY_PLAN_SAVED: Words(_("%(who)s saved a safety plan.")),
    C.CONFLICT_DECLARED: Words(_("%(who)s made a conflict-of-interest declaration.")),
    C.CASE_FACILITATOR_UNASSIGNED: Words(_("%(who)s stepped off the case.")),
    C.SESSION_SCHEDULED: Words(_("%(who)s scheduled a session.")),
    C.SESSION_CANCELLED: Words(_("%(who)s cancelled a session.")),
    C.SESSION_ATTENDEE_ADDED: Words(_("%(who)s added someone to a session.")),
    C.SESSION_ATTENDEE_LEFT: Words(_("Someone no longer attends a session.")),
    C.SESSION_ATTENDEE_REMOVED: Words(_("%(who)s took someone off a session.")),
    C.SESSION_INTERPRETER_ADDED: Words(_("An interpreter was added to a session.")),
    C.INTERPRETER_ATTACHED: Words(
        _("%(who)s arranged an interpreter for someone in the case."), someone=False
    ),
    C.INTERPRETER_DETACHED: Words(
        _("%(who)s ended an interpreter's help for someone in the case."), someone=False
    ),
    C.SESSION_HELD: Words(_("A session went on hold.")),
    C.SESSION_RESTORED: Words(_("%(who)s brought a session back.")),
    C.PARTICIPANT_DATA_DELETED: Words(_("%(who)s asked for their information to be deleted.")),
    C.PARTICIPANT_DATA_EXPORTED: Words(_("%(who)s downloaded their information.")),
    C.AGREEMENT_DRAFTED: Words(_("%(who)s started a draft of the agreement.")),
    C.AGREEMENT_OPENED: Words(_("%(who)s asked the parties to sign the agreement.")),
    C.AGREEMENT_WITHDRAWN: Words(_("%(who)s took the agreement back to a draft.")),
    C.AGREEMENT_SIGNED: Words(_("%(who)s signed the agreement as %(role)s.")),
    C.AGREEMENT_DECLINED: Words(_("%(who)s chose not to sign the agreement.")),
    C.AGREEMENT_IN_FORCE: Words(_("Everyone has signed: the agreement is in force.")),
    C.AGREEMENT_CLOSED: Words(_("%(who)s recorded how the agreement ended: %(what)s.")),
    C.COMMITMENT_SUBMITTED: Words(_("%(who)s marked an item of the agreement done.")),
    C.COMMITMENT_VERIFIED: Words(_("%(who)s checked an item of the agreement as done.")),
    C.COMMITMENT_MORE_NEEDED: Words(_("%(who)s asked for more on an item of the agreement.")),
    C.PAYMENT_RECORDED: Words(_("%(who)s recorded a payment.")),
    C.CHECKIN_SCHEDULED: Words(_("%(who)s planned a follow-up step.")),
    C.CHECKIN_DONE: Words(_("%(who)s marked a follow-up step done.")),
    C.CASE_KEYS_DESTROYED: Words(_("The case's records were deleted for good.")),
    C.CASE_DATA_DELETED: Words(_("The case's records were deleted for good.")),
}

# The same codes told differently by one payload value (`to` of a stage change, `reason` of a place
# ended by an admin in mend.accounts.offboarding).
VARIANTS: dict[tuple[AuditCode, str, str], Words] = {
    (C.CASE_STAGE_CHANGED, "to", "paused"): Words(_("%(who)s paused the case."), someone=False),
    (C.CASE_FACILITATOR_UNASSIGNED, "reason", "account_closed"): Words(
        _("%(who)s ended the place of a %(role)s whose account was closed."), someone=False
    ),
    (C.CASE_FACILITATOR_UNASSIGNED, "reason", "*"): Words(
        _("%(who)s ended the place of a %(role)s who left the program."), someone=False
    ),
}


def words_for(code: str, payload: dict) -> Words | None:
    """The words for an event of this code and payload; None for a code the timeline does not tell."""
    try:
        member = AuditCode(code)
    except ValueError:
        return None
    for (variant_code, key, value), words in VARIANTS.items():
        if variant_code == member and payload.get(key) and value in (payload[key], "*"):
            return words
    return TIMELINE.get(member)
