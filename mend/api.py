"""The JSON API under /api/v1/, with its OpenAPI schema at /api/v1/openapi.json."""

import functools

from django.http import Http404, HttpResponse
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase

from mend.accounts.api_auth import SIGN_IN, ApiTokenAuth, TokenRefused, VerifiedStaffSession
from mend.assessments.api import router as preparation_router
from mend.cases.api import router as cases_router
from mend.core.errors import DomainError
from mend.dialogue.api import router as dialogue_router
from mend.meetings.api import router as sessions_router


class PlainDocs(DocsBase):
    """The API reference as a plain page: ninja's Swagger UI loads script from a CDN, which Mend forbids."""

    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_params=kwargs)
        rows = [
            (method.upper(), path, operation.get("description") or operation.get("summary", ""))
            for path, methods in schema["paths"].items()
            for method, operation in methods.items()
        ]
        page = format_html(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            '<link rel="stylesheet" href="{css}"></head><body><main><h1 id="api-title">{title}</h1>'
            "<p>{description}</p>"
            '<p>The machine-readable schema is at <a href="{schema}">{schema}</a>.</p>'
            '<div class="table-scroll" tabindex="0" role="region" aria-labelledby="api-title"><table><thead>'
            '<tr><th scope="col">Method</th><th scope="col">Path</th><th scope="col">What it does</th></tr>'
            "</thead><tbody>{rows}</tbody></table></div></main></body></html>",
            title=api.title,
            css=static("mend/mend.css"),
            description=api.description,
            schema=self.get_openapi_url(api, kwargs),
            rows=format_html_join("", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>", rows),
        )
        return HttpResponse(page)


class MendApi(NinjaAPI):
    """ninja, with its one plain-text error (405, a method the route does not take) answered in JSON."""

    def _get_urls(self):
        patterns = super()._get_urls()
        for pattern in patterns:
            pattern.callback = self._json_method_not_allowed(pattern.callback)
        return patterns

    def _json_method_not_allowed(self, view):
        @functools.wraps(view)
        def answer(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code != 405:
                return response
            detail = f"This address does not take {request.method}. Use {response['Allow']}."
            json_response = self.create_response(request, {"detail": detail}, status=405)
            json_response["Allow"] = response["Allow"]
            return json_response

        return answer


api = MendApi(
    title="Mend API",
    version="1",
    description="Staff operations on programs and cases. Authenticate with a personal token: "
    "`Authorization: Bearer mend_…`.",
    auth=[ApiTokenAuth(), VerifiedStaffSession()],
    urls_namespace="api",
    docs=PlainDocs(),
)
api.add_router("/", cases_router)
api.add_router("/", sessions_router)
api.add_router("/", preparation_router)
api.add_router("/", dialogue_router)


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
    detail = exc.message if isinstance(exc, TokenRefused) else SIGN_IN
    response = api.create_response(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="Mend API"'
    return response


@api.exception_handler(HttpError)
def refused(request, exc: HttpError):
    detail = exc.message
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # ninja wraps any body that does not parse as "Cannot parse request body".
        detail = "The request body is not valid JSON. Send a JSON object with Content-Type: application/json."
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


def _where(error: dict) -> str:
    """("body", "payload", "action") -> "action", ("query", "page") -> "page"; a missing body -> "body"."""
    parts = [str(part) for part in error.get("loc", ())]
    body = parts[:1] == ["body"]
    parts = parts[2:] if body else parts[1:]
    if body and not parts and error.get("type") == "missing":
        return "body"
    return ".".join(parts)


@api.exception_handler(ValidationError)
def invalid(request, exc: ValidationError):
    problems, errors = [], []
    for error in exc.errors:
        where = _where(error)
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
        errors.append({"field": where, "message": message})
    return api.create_response(
        request, {"detail": "Please fix: " + "; ".join(problems), "errors": errors}, status=422
    )
