"""Account endpoints (SPEC §2): register, login, refresh, logout, is-user."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from accounts import actions, sessions
from accounts import serializers as s
from accounts.models import User
from accounts.throttles import (
    FailedLoginIPThrottle,
    FailedLoginThrottle,
    RegisterThrottle,
    TicketThrottle,
)
from accounts.tickets import issue_ticket
from config import errors


def socket_config(request, user):
    """The SPEC §2 `socket` object, with a freshly minted one-time ticket (at most
    THROTTLE_TICKET a user: login and is-user alike)."""
    tickets = TicketThrottle(user)
    if not tickets.allow_request(request, None):
        raise Throttled(tickets.wait())
    ticket = issue_ticket(user)
    host = settings.RELAY_PUBLIC_HOST or request.get_host()
    return {"host": f"{host.rstrip('/')}/ws/", "id": ticket.id, "expires_in": ticket.expires_in}


def validated(serializer_class, request):
    serializer = serializer_class(data=request.data)
    if not isinstance(request.data, dict):
        raise errors.ValidationFailed("The body must be a JSON object.",
                                      details={"non_field_errors": ["Expected a JSON object."]})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RegisterView(APIView):
    """Create an account."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RegisterThrottle]

    @extend_schema(request=s.RegisterSerializer, responses={201: s.RegisterResultSerializer})
    def post(self, request):
        data = validated(s.RegisterSerializer, request)
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=data["username"], password=data["password"],
                    email=data.get("email", ""), display_name=data.get("display_name", ""),
                )
        except IntegrityError as exc:  # a concurrent registration of the same name won
            raise errors.ValidationFailed(
                details={"username": ["A user with that username already exists."]}
            ) from exc
        return Response({"user": s.user_dict(user)}, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Exchange username and password for tokens and a socket ticket."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [FailedLoginThrottle, FailedLoginIPThrottle]

    def check_throttles(self, request):
        # Keep the instances: a failed attempt is recorded on them after the check.
        self.failure_throttles = self.get_throttles()
        waits = [t.wait() for t in self.failure_throttles if not t.allow_request(request, self)]
        if waits:
            self.throttled(request, max((w for w in waits if w is not None), default=None))

    @extend_schema(request=s.LoginSerializer, responses={200: s.LoginResultSerializer})
    def post(self, request):
        data = validated(s.LoginSerializer, request)
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None:  # wrong password, unknown user, or deactivated account
            for throttle in self.failure_throttles:
                throttle.record_failure()
            raise errors.InvalidCredentials()
        socket = socket_config(request, user)
        refresh = sessions.start(user)
        update_last_login(None, user)
        return Response({
            "access": str(refresh.access_token),
            "refresh": str(refresh),
            "user": s.user_dict(user),
            "socket": socket,
        })


class RefreshView(APIView):
    """Rotate a refresh token: the old one is blacklisted."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.RefreshSerializer, responses={200: s.TokenPairSerializer})
    def post(self, request):
        validated(s.RefreshSerializer, request)
        serializer = sessions.SessionRefreshSerializer(data={"refresh": request.data["refresh"]})
        try:
            serializer.is_valid(raise_exception=True)
        except (TokenError, AuthenticationFailed, User.DoesNotExist) as exc:
            # Expired, malformed, blacklisted (reused after rotation), of a session that logged out,
            # or its user is inactive or gone.
            raise errors.InvalidToken() from exc
        return Response({"access": serializer.validated_data["access"],
                         "refresh": serializer.validated_data["refresh"]})


class LogoutView(APIView):
    """End a session: its refresh token is blacklisted and its access tokens are refused from now on."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.RefreshSerializer, responses={200: None})
    def post(self, request):
        data = validated(s.RefreshSerializer, request)
        try:
            refresh = sessions.SessionRefreshToken(data["refresh"])
            refresh.blacklist()
        except TokenError as exc:
            raise errors.InvalidToken() from exc
        sessions.end(refresh)
        return Response(None)


class IsUserView(APIView):
    """The signed-in user and a fresh socket config."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.IsUserSerializer})
    def get(self, request):
        return Response({"user": s.user_dict(request.user), "socket": socket_config(request, request.user)})


class SettingsView(APIView):
    """The caller's own settings: read them, change some."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.SettingsSerializer

    @extend_schema(responses={200: s.SettingsSerializer})
    def get(self, request):
        return Response({"read_receipts": request.user.read_receipts})

    @extend_schema(request=s.SettingsSerializer, responses={200: s.SettingsSerializer})
    def patch(self, request):
        data = validated(s.SettingsSerializer, request)
        actions.change_settings(user=request.user, **data)
        return Response({"read_receipts": request.user.read_receipts})
