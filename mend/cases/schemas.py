"""The JSON shapes of the case API: what comes in is checked here before a service sees it."""

from datetime import datetime

from ninja import Field, Schema
from pydantic import field_validator

from mend.cases.models import HarmCategory, ReferralSource
from mend.cases.services import INVITABLE_ROLES
from mend.cases.workflow import ACTIONS


class ProgramOut(Schema):
    id: int
    name: str
    slug: str
    time_zone: str
    default_language: str
    jurisdictions: list[str]
    role_words: dict[str, str]


class FacilitatorOut(Schema):
    pseudonym: str
    role: str


class CaseOut(Schema):
    reference: str
    program_id: int
    harm_category: str
    jurisdictions: list[str]
    referral_source: str
    stage: str
    created_at: datetime
    updated_at: datetime
    facilitators: list[FacilitatorOut] = []


class ParticipantOut(Schema):
    id: int
    role: str
    pseudonym: str
    joined: bool
    supports_id: int | None


class CaseDetailOut(CaseOut):
    referral_details: str
    participants: list[ParticipantOut]
    next_actions: list[str]


class CasePage(Schema):
    items: list[CaseOut]
    count: int
    page: int
    pages: int


class CaseIn(Schema):
    program_id: int
    harm_category: str = Field(description="one of " + ", ".join(HarmCategory.values))
    jurisdictions: list[str] = Field(min_length=1, max_length=20)
    referral_source: str = Field(description="one of " + ", ".join(ReferralSource.values))
    referral_details: str = Field("", max_length=5000)
    intake_notes: str = Field("", max_length=5000)
    assign_me: bool = False

    @field_validator("harm_category")
    @classmethod
    def known_category(cls, value):
        if value not in HarmCategory.values:
            raise ValueError("choose one of: " + ", ".join(HarmCategory.values))
        return value

    @field_validator("referral_source")
    @classmethod
    def known_source(cls, value):
        if value not in ReferralSource.values:
            raise ValueError("choose one of: " + ", ".join(ReferralSource.values))
        return value


class TransitionIn(Schema):
    action: str = Field(description="one of " + ", ".join(ACTIONS))

    @field_validator("action")
    @classmethod
    def known_action(cls, value):
        if value not in ACTIONS:
            raise ValueError("choose one of: " + ", ".join(ACTIONS))
        return value


class InvitationIn(Schema):
    role: str = Field(description="one of " + ", ".join(INVITABLE_ROLES))
    supports_id: int | None = None
    expires_in_days: int = Field(7, ge=1, le=30)

    @field_validator("role")
    @classmethod
    def known_role(cls, value):
        if value not in INVITABLE_ROLES:
            raise ValueError("choose one of: " + ", ".join(INVITABLE_ROLES))
        return value


class InvitationOut(Schema):
    id: int
    participant_id: int
    role: str
    expires_at: datetime
    state: str
    link: str | None = None


class TimelineOut(Schema):
    at: datetime
    text: str


class ErrorOut(Schema):
    detail: str
