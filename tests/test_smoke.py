def test_it_serves_the_case_page_to_its_facilitator(cast):
    response = cast.client("facilitator").get(f"/cases/{cast.case.reference}/")
    assert response.status_code == 200
    assert b"Wren" in response.content
