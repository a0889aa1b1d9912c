"""The answer to a post that fails the CSRF check: Mend's own calm page, not Django's, whose inline style
the Content-Security-Policy would block and whose wording would alarm. The reason stays out of the page."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "403.html", status=403)
