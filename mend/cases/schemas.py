"""The JSON shapes of the case API: what comes in is checked here before a service sees it."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Path, Schema
from pydantic import AfterValidator, BeforeValidator, field_validator, model_validator

from mend.cases.models import ClosureReason, HarmCategory, ReferralSource, Role
from mend.cases.selectors import COUNT_CAP, Cursor, read_cursor
from mend.cases.services import INVITABLE_ROLES
from mend.cases.workflow import ACTIONS, STAGES

# The choices are listed in the schema, so that clients and the fuzz tests see every allowed value.
Stage = Literal[tuple(STAGES)]
Category = Literal[tuple(HarmCategory.values)]
Source = Literal[tuple(ReferralSource.values)]
Action = Literal[tuple(ACTIONS)]
InvitableRole = Literal[tuple(INVITABLE_ROLES)]
Reason = Literal[tuple(ClosureReason.values)]
# Database ids: bounded so that no value a client sends can overflow a database integer.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Case references are short codes such as C-7KQM-2XWD; anything else cannot name a case.
Reference = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,16}$", examples=["C-7KQM-2XWD"])]


def _no_nul(value: str, what: str) -> str:
    # PostgreSQL cannot store NUL characters; refuse them here rather than fail in the database.
    if "\x00" in value:
        raise ValueError(f"the {what} cannot contain NUL characters")
    return value


# An empty filter in a query string (`?stage=`) means no filter, as it does on the case list page.
_BlankIsNone = BeforeValidator(lambda value: value or None)


def _cursor(value: str | None) -> Cursor | None:
    if not value:
        return None
    try:
        return read_cursor(value)
    except ValueError:
        raise ValueError(
            "this is not a cursor Mend gave; use the older or newer value of a page as it is"
        ) from None


# A place in the case list, as a page's `older` and `newer` give it: opaque, read by selectors.read_cursor.
CursorParam = Annotated[str | None, Field(max_length=64), AfterValidator(_cursor)]


class CaseFilters(Schema):
    stage: Annotated[Stage | None, _BlankIsNone] = None
    category: Annotated[Category | None, _BlankIsNone] = None
    facilitator: Id | None = Field(None, description="a facilitator's user id")
    after: CursorParam = Field(None, description="a page's `older` cursor: the page of cases after it")
    before: CursorParam = Field(None, description="a page's `newer` cursor: the page of cases before it")

    @field_validator("before")
    @classmethod
    def one_place(cls, value, info):
        if value and info.data.get("after"):
            raise ValueError("give after or before, not both")
        return value


class ProgramOut(Schema):
    id: int
    name: str
    slug: str
    time_zone: str
    default_language: str
    jurisdictions: list[str]
    role_words: dict[str, str]  # in the program's default language

    @staticmethod
    def resolve_role_words(program) -> dict[str, str]:
        return program.words_in(program.default_language)


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
    count: int = Field(description=f"how many cases match, counted up to {COUNT_CAP}")
    count_is_exact: bool = Field(description=f"false when more than {COUNT_CAP} cases match")
    older: str | None = Field(description="the cursor of the next page of older cases (?after=), if any")
    newer: str | None = Field(description="the cursor of the page of newer cases (?before=), if any")


class CaseIn(Schema):
    program_id: Id
    harm_category: Category
    jurisdictions: list[Annotated[str, Field(pattern=r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$")]] = Field(
        min_length=1, max_length=20, description="ISO 3166 codes such as NZ or AU-NSW"
    )
    referral_source: Source
    referral_details: str = Field("", max_length=5000)
    intake_notes: str = Field("", max_length=5000)
    assign_me: bool = Field(False, description="make the caller the case's facilitator")

    @field_validator("referral_details", "intake_notes")
    @classmethod
    def storable_text(cls, value, info):
        return _no_nul(value, info.field_name.replace("_", " "))


class TransitionIn(Schema):
    action: Action
    closure_reason: Reason | None = Field(None, description="why the case is closing; needed to close")
    send_closing_message: bool = Field(
        False, description="on closing, send the person harmed a short, neutral closing message"
    )

    @model_validator(mode="after")
    def closing_says_why(self):
        if self.action == "close" and not self.closure_reason:
            raise ValueError(
                "closure_reason: to close a case, choose one of: " + ", ".join(ClosureReason.values)
            )
        return self


class InvitationIn(Schema):
    role: InvitableRole
    supports_id: Id | None = Field(
        None, description="for a supporter: the participant id of the party they are there for"
    )
    expires_in_days: int = Field(7, ge=1, le=30)

    @model_validator(mode="after")
    def supporter_says_whom(self):
        if self.role == Role.SUPPORTER and self.supports_id is None:
            raise ValueError(
                "supports_id: a supporter needs the participant id of the harmed or responsible party "
                "they are there for"
            )
        return self


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
    detail: str = Field(description="what went wrong, in words for the person who can fix it")
    field: str | None = Field(None, description="the field to fix, when there is one")
