"""The demo banner: everyone reads that the data is invented; only staff (and the sign-in page, where staff
sign in) read how demo staff accounts sign in."""

import pytest

STAFF_WORDS = "Demo staff accounts skip the second sign-in step."


@pytest.fixture(autouse=True)
def demo(settings):
    settings.MEND_DEMO = True


def test_a_participant_reads_only_that_the_data_is_invented(cast):
    page = cast.client("harmed").get("/", follow=True).content.decode()
    assert "Demo mode: invented data only." in page
    assert STAFF_WORDS not in page


def test_staff_and_the_sign_in_page_also_read_how_demo_staff_sign_in(cast, client):
    assert STAFF_WORDS in cast.client("facilitator").get("/").content.decode()
    assert STAFF_WORDS in client.get("/account/sign-in/").content.decode()
