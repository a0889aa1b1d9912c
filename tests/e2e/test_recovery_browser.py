import pytest
from tests.e2e.navigators import StaffMember, send_sign_in

pytestmark = pytest.mark.e2e


def test_debug(new_context, mend_server):
    page = new_context().new_page()
    log = []
    page.on("response", lambda r: log.append((r.request.method, r.url, r.status, r.request.post_data, r.text() if r.request.method == "POST" else "")))
    page.on("console", lambda m: log.append(("console", m.text)))
    send_sign_in(page, mend_server.facilitator.email, mend_server.facilitator.password)
    page.wait_for_timeout(8000)
    for item in log:
        print(item)
    assert 0
