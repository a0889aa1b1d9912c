"""`page`: the case list page of the facilitator who runs all the seeded cases (100,000 in the full run),
signed in with the second factor passed, against a bare view that reads one row with the ORM."""

from bench.scenarios.http import HttpScenario


class Page(HttpScenario):
    name = "page"
    target = "throughput ratio>=0.4, p99<100ms, fixed queries"
    ours_path = "/cases/"
    base_path = "/bench/row/"

    def ours_headers(self) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.ctx.actors.lead_session}"}
