"""`signin`: a participant signs in (the sign-in form with the key their browser derives, CSRF token and
all), against the raw Argon2 hash of argon2-cffi with the parameters of Django's Argon2PasswordHasher.
The browser's own key derivation (PBKDF2) happens before and is not counted, on either side."""

import re
import time
from urllib.parse import urlencode

from argon2 import PasswordHasher
from django.contrib.auth.hashers import Argon2PasswordHasher

from bench import loadgen
from bench.scenarios import Context, ordered, summary

SAMPLES = 10
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class SignIn:
    name = "signin"
    target = "p50<=hash+10ms"

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rate = 0.0
        django_hasher = Argon2PasswordHasher()
        self.params = {
            "time_cost": django_hasher.time_cost,
            "memory_cost": django_hasher.memory_cost,
            "parallelism": django_hasher.parallelism,
        }
        self.extra = {"argon2": self.params}
        self.hasher = PasswordHasher(**self.params)
        self.hash = self.hasher.hash(ctx.actors.auth_key)

    async def setup(self) -> None:
        connection = loadgen.Connection(self.ctx.ports[0])
        page = await connection.request("GET", "/account/sign-in/")
        connection.close()
        token = _CSRF.search(bytes(page.body))
        if page.status != 200 or token is None:
            raise RuntimeError(f"the sign-in page gave no CSRF token ({page.status})")
        actors = self.ctx.actors
        form = {
            "identifier": actors.sign_in_name,
            "auth_key": actors.auth_key,
            "csrfmiddlewaretoken": token.group(1),
        }
        self.body = urlencode(form).encode()
        self.headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={page.cookies()['csrftoken']}",
        }
        one = await loadgen.closed_loop(self.ours, self.ctx.ports, clients=1, seconds=1.0, warmup=0.5)
        if one.errors or not one.latencies:
            raise RuntimeError("signing in did not work: check the bench actor's credentials")
        self.rate = round(max(0.5, self.ctx.settings.load / loadgen.median(one.latencies)), 1)

    async def ours(self, connection: loadgen.Connection) -> bool:
        response = await connection.request("POST", "/account/sign-in/", self.headers, self.body)
        return response.status == 302  # signed in, sent on to the home page

    def base(self, count: int) -> dict:
        sample = loadgen.Sample(seconds=1.0)
        for _ in range(count):
            started = time.perf_counter()
            self.hasher.verify(self.hash, self.ctx.actors.auth_key)
            sample.latencies.append(time.perf_counter() - started)
        return summary(sample)

    async def run(self, index: int) -> dict:
        seconds = self.ctx.settings.open_seconds
        # Judged by its p50, sign-in keeps to the open-loop time: at about 3 a second, the other scenarios'
        # minimum of samples would take half a minute per run.
        count = max(SAMPLES, round(self.rate * seconds))
        result = {}

        async def ours() -> dict:
            pool = loadgen.Pool(self.ctx.ports)
            sample = await loadgen.open_loop(self.ours, pool, rate=self.rate, seconds=count / self.rate)
            pool.close()
            return summary(sample)

        async def base() -> dict:
            return self.base(count)

        for side, measure in ordered(index, ours, base):
            result[side] = await measure()
        return result

    async def teardown(self) -> None:
        pass
