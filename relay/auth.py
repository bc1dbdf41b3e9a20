"""Who is on a socket: a one-time ticket, a Bearer access JWT, or nobody."""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from accounts.sessions import SessionAccessToken
from accounts.tickets import aconsume_ticket
from config.redis_clients import REDIS_DOWN
from groups.selectors import member_group_ids


class SocketAuthError(Exception):
    """Authentication failed; `code` is the WebSocket close code."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


INVALID = 4401  # bad, expired or reused ticket or token
INACTIVE = 4403  # a deactivated user
TRY_AGAIN_LATER = 1013  # RFC 6455: a backing service (Redis) is down for a moment


def load_member(user_id):
    """(user, their group ids) for a socket's sign-in; `relay.opening` reads it in the
    stream's snapshot, in one thread hop."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise SocketAuthError(INVALID)
    if not user.is_active:
        raise SocketAuthError(INACTIVE)
    return user, member_group_ids(user)



async def user_id_from_ticket(ticket):
    try:
        user_id = await aconsume_ticket(ticket)
    except REDIS_DOWN as exc:  # the ticket is still good: the client may retry it
        raise SocketAuthError(TRY_AGAIN_LATER) from exc
    if user_id is None:
        raise SocketAuthError(INVALID)
    return user_id


async def user_id_from_access_token(raw):
    try:
        # Off the event loop: whether its session has ended is a cache read.
        token = await sync_to_async(SessionAccessToken)(raw)
        return token[api_settings.USER_ID_CLAIM]
    except (TokenError, KeyError) as exc:
        raise SocketAuthError(INVALID) from exc


async def user_id_from_credential(credential):
    """The `auth` frame's token: a JWT has two dots, a ticket has none. A JWT may come as
    an `Authorization` header's value would ("Bearer <jwt>")."""
    credential = _after_bearer(credential) or credential
    if credential.count(".") == 2:
        return await user_id_from_access_token(credential)
    return await user_id_from_ticket(credential)


def _after_bearer(value):
    """The token of "Bearer <token>", or None."""
    kind, _, token = value.partition(" ")
    return token.strip() if kind.lower() == "bearer" and token.strip() else None


def bearer_token(scope):
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            token = _after_bearer(value.decode("latin-1"))
            if token is None:
                raise SocketAuthError(INVALID)
            return token
    return None
