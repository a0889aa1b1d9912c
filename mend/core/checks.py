"""Mend's own deploy checks (`mend check --deploy`): settings that work on one machine but quietly go wrong
behind a proxy or across several servers."""

import os

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def proxy_and_install_checks(app_configs, **kwargs) -> list[checks.CheckMessage]:
    found = []
    if settings.ENV.https and not settings.MEND_TRUSTED_PROXIES:
        found.append(
            checks.Warning(
                "MEND_HTTPS=1 but MEND_TRUSTED_PROXIES is empty: behind a reverse proxy, every client counts "
                "as the proxy's address, so one person's failed sign-ins lock everyone out and the audit "
                "trail records the proxy.",
                hint="Set MEND_TRUSTED_PROXIES to your proxy's address or network, for example "
                "MEND_TRUSTED_PROXIES=127.0.0.1 or MEND_TRUSTED_PROXIES=10.0.0.0/8.",
                id="mend.W001",
            )
        )
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine and not os.environ.get("MEND_INSTALL_ID"):
        found.append(
            checks.Warning(
                "DATABASE_URL is PostgreSQL but MEND_INSTALL_ID is not set: each server generates its own "
                "under its MEND_VAR_DIR, and people signed up on one server cannot sign in on another.",
                hint="Set MEND_INSTALL_ID to the same value on every server (16 to 64 letters, digits, - or "
                "_; try: openssl rand -hex 16). On a running install, copy the value from "
                "MEND_VAR_DIR/mend_install_id of the server that has served so far.",
                id="mend.W002",
            )
        )
    return found
