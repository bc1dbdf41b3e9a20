"""Top-level URLs: the API under /api/, the admin, health, the API docs and the demo SPA at /."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from config.metrics import metrics_view
from config.views import api_not_found, spa
from relay.publishing import PublishView
from relay.views import EventsView, asyncapi

api_patterns = [
    path("", include("accounts.urls")),
    path("", include("groups.urls")),
    path("", include("moderation.urls")),  # with groups/ and posts/
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("asyncapi/", asyncapi, name="asyncapi"),
    path("events/", EventsView.as_view(), name="events"),
    path("publish/", PublishView.as_view(), name="publish"),
    # Anything else under /api/ answers with the envelope, not an HTML page; [\s\S], not ".",
    # so a path with an encoded newline (%0A) is caught too.
    re_path(r"^[\s\S]*\Z", api_not_found),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    # The report queue and the audit trail moved with the desk's app: old bookmarks still land.
    re_path(r"^admin/accounts/(?P<page>report|moderationlog)/(?P<rest>[\s\S]*)\Z",
            RedirectView.as_view(url="/admin/moderation/%(page)s/%(rest)s", query_string=True)),
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("", spa, name="spa"),
]

handler400 = "config.rest.envelope.handler400"
handler403 = "config.rest.envelope.handler403"
handler404 = "config.rest.envelope.handler404"
handler500 = "config.rest.envelope.handler500"
