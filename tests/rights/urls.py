"""Mend's URLs with the data-rights pages mounted, until mend/urls.py mounts them itself."""

from django.urls import include, path

from mend.rights.urls import rights_patterns
from mend.urls import urlpatterns as mend_urlpatterns

mounted = any(getattr(p, "namespace", None) == "rights" for p in mend_urlpatterns)
urlpatterns = [*mend_urlpatterns]
if not mounted:
    urlpatterns.append(path("cases/<str:reference>/", include(rights_patterns)))
