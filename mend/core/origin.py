"""The websocket's same-origin check: a socket opens only for a page of this very site, the same scheme, host
and port, so that another service on the same host name (another port, or plain HTTP beside HTTPS) cannot
open one with a signed-in person's cookies. Channels' AllowedHostsOriginValidator compares the host only."""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def _origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an Origin header, with the scheme's port when none is written."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path or parts.query:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname, port if port is not None else DEFAULT_PORTS[parts.scheme]


def site_scheme(scope) -> str:
    """The scheme of this site's pages: HTTPS whenever Mend is configured for it (behind a proxy that ends
    TLS the socket itself arrives as plain ws), otherwise that of the socket."""
    if settings.SECURE_PROXY_SSL_HEADER is not None or settings.SECURE_SSL_REDIRECT:
        return "https"
    return "https" if scope.get("scheme") == "wss" else "http"


def origin_allowed(scope) -> bool:
    """Whether the Origin of a websocket handshake is this site, compared as scheme, host and port. The
    Host header gives the host and port (it must be one of ALLOWED_HOSTS); a handshake without one, which
    no browser sends, is compared with ALLOWED_HOSTS on the scheme's own port."""
    raw = _header(scope, b"origin")
    origin = _origin(raw) if raw else None
    if origin is None:
        return False
    scheme = site_scheme(scope)
    host_header = _header(scope, b"host")
    if host_header:
        domain, port = split_domain_port(host_header.lower())
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return False
        try:
            expected_port = int(port) if port else DEFAULT_PORTS[scheme]
        except ValueError:
            return False
        return origin == (scheme, domain.strip("[]"), expected_port)
    return (
        origin[0] == scheme
        and origin[2] == DEFAULT_PORTS[scheme]
        and validate_host(origin[1], settings.ALLOWED_HOSTS)
    )


class SameOriginValidator:
    """ASGI middleware for the websocket router: refuses a handshake whose Origin is not this site."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
