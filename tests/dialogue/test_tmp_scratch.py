from tests.dialogue.test_views import *
def test_x(cast):
    relay = conversation(cast, "relay", cast.responsible)
    page = text(cast.client("facilitator").get(messages_url(cast, f"{relay.public_id}/")))
    print(re.findall(r'cannot-write">(.*?)</p>', page, re.S), "data-composer" in page)
