"""The domain error hierarchy: one class per SPEC machine code.

Actions raise these; `config.rest.envelope.exception_handler` turns them into the REST
envelope and `relay.errors.socket_error` into the socket `error` frame. They are
DRF `APIException`s, so a view can simply let them propagate.
"""

from rest_framework import status
from rest_framework.exceptions import APIException


class KiriminError(APIException):
    """Base class: `default_code` is the SPEC machine code."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request could not be processed."
    default_code = "bad_request"

    def __init__(self, detail=None, code=None, *, details=None):
        super().__init__(detail, code)
        self.details = details

    @property
    def code(self):
        return self.detail.code


class ValidationFailed(KiriminError):
    """Input did not validate; `details` maps field -> list of messages."""

    default_detail = "Some fields are invalid."
    default_code = "validation_error"


class InvalidJSON(KiriminError):
    """The body or frame is not valid JSON."""

    default_detail = "Malformed JSON."
    default_code = "invalid_json"


class NotAuthenticated(KiriminError):
    """No credentials were given."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Authentication credentials were not provided."
    default_code = "not_authenticated"


class InvalidToken(KiriminError):
    """The token or ticket is invalid, expired, reused or blacklisted."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "The token is invalid or expired."
    default_code = "invalid_token"


class InvalidCredentials(KiriminError):
    """Wrong username or password (or an inactive account)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Wrong username or password."
    default_code = "invalid_credentials"


class Forbidden(KiriminError):
    """The caller may not do this."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You are not allowed to do this."
    default_code = "forbidden"


class NotFound(KiriminError):
    """Missing, or not visible to the caller: ids leak nothing."""

    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "Not found."
    default_code = "not_found"


class Conflict(KiriminError):
    """The request conflicts with the current state."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state."
    default_code = "conflict"


class PayloadTooLarge(KiriminError):
    """The request body is over `DATA_UPLOAD_MAX_MEMORY_SIZE`."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Gone(KiriminError):
    """What was asked for is no longer kept (a stream position older than its retention)."""

    status_code = status.HTTP_410_GONE
    default_detail = "That is no longer kept."
    default_code = "gone"


class Throttled(KiriminError):
    """Too many requests."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many requests. Slow down."
    default_code = "throttled"


class ServiceUnavailable(KiriminError):
    """A backing service (Redis) is unreachable for a moment; retry shortly."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "This is unavailable for a moment. Try again in a few seconds."
    default_code = "service_unavailable"


class ServerError(KiriminError):
    """Something failed on our side; never carries internals."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = "Something went wrong on our side."
    default_code = "server_error"
