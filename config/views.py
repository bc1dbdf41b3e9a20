"""Small project-wide views: the /api/ catch-all and the demo SPA."""

from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.templatetags.static import static
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from config.errors import NotFound

SPA_INDEX = Path(__file__).resolve().parent / "static" / "app" / "index.html"
# index.html loads its assets relative to this base, so the folder also works on its own.
SPA_BASE = '<base href="/static/app/">'


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([AllowAny])
def api_not_found(request):
    raise NotFound("No API endpoint here. API paths end with '/'.")


@cache
def _spa_html():
    html = SPA_INDEX.read_text(encoding="utf-8")
    # Follow STATIC_URL when it is not the /static/ the file names.
    return html.replace(SPA_BASE, f'<base href="{static("app/")}">', 1)


# The demo loads nothing from elsewhere and runs no inline code: a page that cannot run injected
# scripts, load foreign resources or be framed. (`'self'` covers its own ws:// and wss:// socket.)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@require_safe
def spa(request):
    """The demo client (config/static/app/): plain HTML, CSS and JavaScript modules."""
    response = HttpResponse(_spa_html(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
