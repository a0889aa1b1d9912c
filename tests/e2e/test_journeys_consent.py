"""Browser journeys of the consent issue: stopping in one click, and choices the other side never sees."""

import pytest

from tests.e2e.navigators import Party

pytestmark = pytest.mark.e2e


def test_it_lets_the_harmed_party_stop_in_one_click_and_the_facilitator_sees_why(
    new_context, facilitator, mend_server
):
    # Given the person harmed, signed in on their own device, in a case ready for a dialogue
    marram = Party(new_context().new_page())
    marram.sign_in(mend_server.harmed_sign_in, mend_server.party_phrase)

    # When they stop taking part, with one click and no reason asked
    marram.stop_taking_part()

    # Then the facilitator is not offered them for a session, and sees why: they are not taking part for now
    offered, left_out = facilitator.scheduling_offers(mend_server.prepared_case_reference)
    assert any("Tarn" in name for name in offered)
    assert not any("Marram" in name for name in offered)
    assert "Not taking part for now:" in left_out and "Marram" in left_out
    # And the person responsible hears only that the process is paused
    tarn = Party(new_context().new_page())
    tarn.sign_in(mend_server.responsible_sign_in, mend_server.party_phrase)
    text = tarn.case_page_text()
    assert "The process is paused for now." in text
    assert "stopped" not in text.lower() and "withdr" not in text.lower()


def test_it_keeps_the_progress_choice_from_the_responsible_party(new_context, mend_server):
    # Given both parties signed in, each in their own browser
    marram = Party(new_context().new_page())
    marram.sign_in(mend_server.harmed_sign_in, mend_server.party_phrase)
    tarn = Party(new_context().new_page())
    tarn.sign_in(mend_server.responsible_sign_in, mend_server.party_phrase)
    before = tarn.case_page_text()

    # When the person harmed changes how they hear of progress
    marram.change_progress_updates("A summary every few weeks", weeks="3")

    # Then the person responsible's page says nothing about it
    after = tarn.case_page_text()
    assert after == before
    for word in ["progress", "summary", "weeks", "at the end"]:
        assert word not in after.lower()
