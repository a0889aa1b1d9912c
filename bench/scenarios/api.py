"""`api`: a staff member's authenticated JSON case list (personal API token), against a bare JsonResponse
view of a page of the same shape and size under the same servers."""

from bench.scenarios.http import HttpScenario


class Api(HttpScenario):
    name = "api"
    target = "throughput ratio>=0.5"
    ours_path = "/api/v1/cases"
    base_path = "/bench/json/"

    def ours_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.actors.api_token}", "Accept": "application/json"}
