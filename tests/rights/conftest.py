"""Fixtures shared by the data-rights tests: a case with an indirect exchange under way."""

import pytest

from mend.cases import services as case_services
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Conversation
from tests.builders import prepare_for_encounter
from tests.dialogue.helpers import give_keys, seal
from tests.dialogue.test_services import Keys, for_relay, opened, post, relay_envelope
from tests.keystore.helpers import fill_every_sealed_field

Kind = Conversation.Kind


@pytest.fixture
def keys(cast) -> Keys:
    return Keys(
        facilitator=give_keys(cast.facilitator),
        harmed=give_keys(cast.harmed.user),
        responsible=give_keys(cast.responsible.user),
        supporter=give_keys(cast.supporter.user),
    )


@pytest.fixture
def talked(cast, keys):
    """An indirect exchange under way: words in the support and relay conversations, a file, a team note."""
    fill_every_sealed_field(cast)
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    post(cast.harmed.user, support, seal(support, keys.harmed, "I am scared of seeing him."))
    post(cast.facilitator, support, seal(support, keys.facilitator, "You will not have to."))
    dialogue_services.attachment_store(
        actor=cast.harmed.user, conversation=support, file_id="0b8c6a52-0f43-4f59-9b59-7d3f4a3f2a10",
        ciphertext=b"\x01" * 64,
    )  # fmt: skip
    waiting = for_relay(cast, keys, "I am sorry for what I did.")
    theirs, relayed = relay_envelope(cast, keys, waiting, "I am sorry for what I did.")
    post(cast.facilitator, theirs, relayed)
    team = opened(cast, Kind.TEAM)
    post(cast.facilitator, team, seal(team, keys.facilitator, "Debrief on Friday."))
    cast.case.refresh_from_db()
    return cast
