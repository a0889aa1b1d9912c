"""Which language a person reads Mend in after joining: the one they prefer when Mend is written in it; else
the one the join page was in; the language they prefer stays on their place, for an interpreter."""

import pytest

from mend.accounts.credentials import new_sign_in_name
from mend.accounts.keys import unknown_credentials
from mend.cases import services as case_services
from mend.cases.models import Participant, Role


@pytest.mark.parametrize(
    ("preferred", "page", "reads"),
    [("es", "fr", "es"), ("fa", "es", "es"), ("mi", None, "en"), ("ar", "en", "ar")],
)
def test_a_person_reads_mend_in_a_language_it_is_written_in(cast, preferred, page, reads):
    _invitation, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role=Role.SUPPORTER, supports=cast.harmed
    )
    user = case_services.invitation_accept(
        raw_token=raw,
        pseudonym="Tui",
        preferred_language=preferred,
        page_language=page,
        **unknown_credentials(new_sign_in_name()),
    )
    assert user.language == reads
    assert Participant.objects.get(user=user).preferred_language == preferred


def test_the_error_page_speaks_the_readers_language_and_direction(rf):
    from django.utils import translation

    from mend.core.views import server_error

    with translation.override("ar"):
        page = server_error(rf.get("/")).content.decode()
        said = translation.gettext("Something went wrong on our side")
    assert '<html lang="ar" dir="rtl">' in page
    assert said in page and said != "Something went wrong on our side"
