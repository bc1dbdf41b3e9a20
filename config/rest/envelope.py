"""The SPEC §1 envelope for every API response, DRF's own errors included.

success: {"status", "message", "data"}
error:   {"status", "error", "message", "details", "data": null}
"""

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from config import errors

log = logging.getLogger("kirimin.api")

# DRF exception class -> SPEC machine code (the first match wins)
_DRF_CODES = [
    (drf.ValidationError, "validation_error"),
    (drf.ParseError, "invalid_json"),
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "invalid_token"),
    (drf.PermissionDenied, "forbidden"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "throttled"),
]


def phrase(status_code):
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def error_body(status_code, code, message, details=None):
    return {"status": status_code, "error": code, "message": message, "details": details, "data": None}


def _flatten_message(detail):
    """A human sentence from a DRF detail (string, list or dict)."""
    if isinstance(detail, dict):
        # simplejwt puts its sentence under "detail"; serializers map fields to lists.
        return str(detail["detail"]) if "detail" in detail else "Some fields are invalid."
    if isinstance(detail, list):
        return " ".join(str(d) for d in detail) or "Invalid input."
    return str(detail)


def _details(exc):
    if isinstance(exc, errors.KiriminError):
        return exc.details
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            return detail
        return {"non_field_errors": detail if isinstance(detail, list) else [detail]}
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        return {"retry_after": int(exc.wait + 0.999)}
    return None


def exception_to_body(exc):
    """Translate any exception into (status, envelope body). Unknown ones become 500."""
    if isinstance(exc, Http404):
        exc = errors.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = errors.Forbidden()
    elif isinstance(exc, (RequestDataTooBig, TooManyFieldsSent)):
        exc = errors.PayloadTooLarge()
    if isinstance(exc, errors.KiriminError):
        return exc.status_code, error_body(exc.status_code, exc.code, str(exc.detail), exc.details)
    if isinstance(exc, drf.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), None)
        if code is None:
            code = exc.default_code if isinstance(exc.default_code, str) else "error"
        if isinstance(exc, drf.ValidationError):
            message = "Some fields are invalid."
        elif isinstance(exc, drf.ParseError):
            message = "Malformed JSON: the body could not be parsed."
        else:
            message = _flatten_message(exc.detail)
        return exc.status_code, error_body(exc.status_code, code, message, _details(exc))
    log.exception("Unhandled error", exc_info=exc)
    err = errors.ServerError()
    return 500, error_body(500, err.code, str(err.detail))


def exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every exception, known or not, becomes an envelope."""
    status_code, body = exception_to_body(exc)
    headers = {}
    if isinstance(exc, drf.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait + 0.999))
    if isinstance(exc, errors.ServiceUnavailable):
        headers["Retry-After"] = str((exc.details or {}).get("retry_after", 5))
    response = Response(body, status=status_code, headers=headers)
    response.enveloped = True
    return response


class EnvelopeJSONRenderer(JSONRenderer):
    """Wraps successful payloads as {"status", "message", "data"}."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and not getattr(response, "enveloped", False):
            status_code = response.status_code
            if status_code >= 400:
                # An error response built by hand, not by the exception handler.
                message = _flatten_message(data.get("detail", data) if isinstance(data, dict) else data)
                data = error_body(status_code, "error", message, data if isinstance(data, dict) else None)
            else:
                data = {"status": status_code, "message": phrase(status_code), "data": data}
                if getattr(response, "relay_failed", 0):  # stored, but live clients were not told
                    data["relayed"] = False
            response.enveloped = True
        return super().render(data, accepted_media_type, renderer_context)


def json_error_view(status_code, code, message):
    def view(request, *args, **kwargs):
        return JsonResponse(error_body(status_code, code, message), status=status_code)

    return view


handler400 = json_error_view(400, "bad_request", "Bad request.")
handler403 = json_error_view(403, "forbidden", "You are not allowed to do this.")
handler404 = json_error_view(404, "not_found", "Not found.")
handler500 = json_error_view(500, "server_error", "Something went wrong on our side.")


def envelope_schema_hook(result, generator, request, public):
    """Describe the envelope in the OpenAPI document, so clients and schemathesis see the real shape."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "error": {"type": "string"},
            "message": {"type": "string"},
            "details": {"type": "object", "nullable": True, "additionalProperties": True},
            "data": {"nullable": True},
        },
        "required": ["status", "error", "message", "details", "data"],
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, response in operation["responses"].items():
                if code.startswith("2") and not response.get("content"):
                    # `responses={200: None}`: the body is still an envelope, with `data: null`.
                    response["content"] = {"application/json": {"schema": {"type": "object", "nullable": True}}}
                for media in response.get("content", {}).values():
                    inner = media.get("schema")
                    if inner is None:
                        continue
                    media["schema"] = {
                        "type": "object",
                        "properties": {
                            "status": {"type": "integer"},
                            "message": {"type": "string"},
                            "data": inner,
                        },
                        "required": ["status", "message", "data"],
                    }
            # Every error a DRF view can answer: validation, auth, permission, lookup, method,
            # content negotiation (406, 415), conflict, throttling.
            for code in ("400", "401", "403", "404", "405", "406", "409", "415", "429"):
                operation["responses"].setdefault(
                    code,
                    {
                        "description": phrase(int(code)),
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
