from tests.dialogue.test_api import *  # noqa

def test_probe(cast, talking):
    c = cast.client("facilitator")
    r = c.get(f"/api/v1{talking.path}/messages", {"after": "99999999999999999999999"})
    print("API big after", r.status_code, r.content[:200])
    r = c.post(f"/cases/{cast.case.reference}/messages/{talking.support.public_id}/send/", "[" * 100000 + "]" * 100000, content_type="application/json")
    print("send deep", r.status_code)
    r = c.post(f"/api/v1{talking.path}/messages", "[" * 100000 + "]" * 100000, content_type="application/json")
    print("api deep", r.status_code, r.content[:200])
    r = c.post(f"/api/v1{talking.path}/messages", '{"v":1,"conversation":"x","id":"x","sender":"x","meta":' + "[" * 100000 + "]" * 100000 + ',"nonce":"","body":"","keys":[],"sig":""}', content_type="application/json")
    print("api deep2", r.status_code, r.content[:200])
