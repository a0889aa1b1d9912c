"""Mend's URLs. Every page needs sign-in except those marked login_not_required: sign-in, join, health,
the language switcher."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from mend.accounts import language_views, settings_views, staff_views
from mend.accounts import views as account_views
from mend.agreements.urls import agreement_patterns
from mend.api import api
from mend.assessments import views as assessment_views
from mend.cases import views as case_views
from mend.cases.urls import person_patterns
from mend.circles.circle_urls import circle_patterns
from mend.consent import views as consent_views
from mend.core import views as core_views
from mend.dialogue import views as dialogue_views
from mend.meetings.room_urls import meeting_patterns
from mend.meetings.urls import session_patterns
from mend.rights.urls import rights_patterns


def _api_urls():
    # The API authenticates each call itself (token or verified session): no redirect to sign-in.
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = login_not_required(pattern.callback)
    return patterns, app_name, namespace


account_patterns = (
    [
        path("sign-in/", account_views.sign_in, name="sign_in"),
        path("sign-out/", account_views.sign_out, name="sign_out"),
        path("two-factor/", account_views.two_factor, name="two_factor"),
        path("keys/", account_views.own_keys, name="keys"),
        path("keys/unlock/", account_views.unlock, name="unlock"),
        path("recover/", account_views.recover, name="recover"),
        path("tokens/", account_views.api_tokens, name="api_tokens"),
        path("tokens/<int:token_id>/revoke/", account_views.api_token_revoke, name="api_token_revoke"),
        path("settings/", settings_views.settings_page, name="settings"),
    ],
    "accounts",
)

case_patterns = (
    [
        path("", case_views.case_list, name="list"),
        path("new/", case_views.intake, name="intake"),
        path("<str:reference>/", case_views.detail, name="detail"),
        path("<str:reference>/transition/", case_views.transition, name="transition"),
        path("<str:reference>/invite/", case_views.invite, name="invite"),
        path("<str:reference>/assign/", case_views.assign, name="assign"),
        path(
            "<str:reference>/assignment-requests/<int:request_id>/",
            case_views.assignment_decide,
            name="assignment_decide",
        ),
        path(
            "<str:reference>/invitations/<int:invitation_id>/revoke/",
            case_views.revoke_invitation,
            name="revoke_invitation",
        ),
    ],
    "cases",
)

consent_patterns = (
    [
        path("consent/", consent_views.consent, name="consent"),
        path("choices/", consent_views.choices, name="choices"),
        path("break/", consent_views.take_break, name="break"),
        path("stop/", consent_views.stop, name="stop"),
    ],
    "consent",
)

assessment_patterns = (
    [
        path("people/<int:participant_id>/assessment/", assessment_views.assessment, name="assessment"),
        path(
            "people/<int:participant_id>/acknowledgment/confirm/",
            assessment_views.confirm_acknowledgment,
            name="confirm_acknowledgment",
        ),
        path("people/<int:participant_id>/safety-plan/", assessment_views.safety_plan, name="safety_plan"),
        path("conflict/", assessment_views.declare_conflict, name="conflict"),
        path("acknowledgment/", assessment_views.acknowledgment, name="acknowledgment"),
    ],
    "assessments",
)

dialogue_patterns = (
    [
        path("", dialogue_views.conversation_list, name="list"),
        path("receipts/", dialogue_views.read_receipts, name="read_receipts"),
        path("files/<str:file_id>/", dialogue_views.download, name="download"),
        path("<str:public_id>/", dialogue_views.conversation, name="conversation"),
        path("<str:public_id>/members/", dialogue_views.members, name="members"),
        path("<str:public_id>/send/", dialogue_views.send, name="send"),
        path("<str:public_id>/files/", dialogue_views.upload, name="upload"),
    ],
    "dialogue",
)

program_patterns = (
    [
        path("<int:program_id>/words/", account_views.program_words, name="words"),
        path("<int:program_id>/consent/", consent_views.program_texts, name="consent_texts"),
        path("<int:program_id>/questions/", assessment_views.program_questions, name="questions"),
        path("<int:program_id>/people/", staff_views.people, name="people"),
        path(
            "<int:program_id>/people/<int:membership_id>/remove/",
            staff_views.person_remove,
            name="person_remove",
        ),
        path(
            "<int:program_id>/people/<int:membership_id>/deactivate/",
            staff_views.person_deactivate,
            name="person_deactivate",
        ),
    ],
    "programs",
)

urlpatterns = [
    path("", case_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("language/", language_views.language, name="language"),
    path("account/", include(account_patterns)),
    path("join/<str:token>/", account_views.join, name="join"),
    path("cases/", include(case_patterns)),
    path("cases/<str:reference>/", include(consent_patterns)),
    path("cases/<str:reference>/", include(person_patterns)),
    path("cases/<str:reference>/", include(assessment_patterns)),
    path("cases/<str:reference>/sessions/", include(session_patterns)),
    path("cases/<str:reference>/messages/", include(dialogue_patterns)),
    path("cases/<str:reference>/", include(rights_patterns)),
    path("cases/<str:reference>/agreement/", include(agreement_patterns)),
    path("programs/", include(program_patterns)),
    path("circles/", include(circle_patterns)),
    path("meetings/<int:session_id>/", include(meeting_patterns)),
    path("api/v1/", _api_urls()),
]

if settings.MEND_BENCH:  # the benchmark's bare baselines, local runs only (mend.env, bench/README.md)
    from mend.bench.urls import urlpatterns as bench_patterns

    urlpatterns += bench_patterns

handler400 = core_views.bad_request
handler403 = core_views.forbidden
handler404 = core_views.not_found
handler500 = core_views.server_error
