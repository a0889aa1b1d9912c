"""The JSON API under /api/v1/, with its OpenAPI schema at /api/v1/openapi.json."""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from mend.accounts.api_auth import ApiTokenAuth, VerifiedStaffSession
from mend.cases.api import router as cases_router
from mend.core.errors import DomainError

api = NinjaAPI(
    title="Mend API",
    version="1",
    description="Staff operations on programs and cases. Authenticate with a personal token: "
    "`Authorization: Bearer mend_…`.",
    auth=[ApiTokenAuth(), VerifiedStaffSession()],
    urls_namespace="api",
)
api.add_router("/", cases_router)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    body = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request, {"detail": "Sign in, or send a personal API token as a Bearer token."}, status=401
    )


@api.exception_handler(ValidationError)
def invalid(request, exc: ValidationError):
    problems = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {error.get('msg', 'is not valid')}")
    return api.create_response(
        request, {"detail": "Please fix: " + "; ".join(problems), "errors": exc.errors}, status=422
    )
