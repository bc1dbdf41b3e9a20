"""Direct messages, conversations and presence; `groups/` itself is routed by `moderation.urls`, whose viewset adds the
staff delete to `groups.views.GroupViewSet`."""

from django.urls import path

import config.rest.params  # noqa: F401  (registers the `id` converter)
from groups.views import (
    ConversationsView,
    DirectMessagesView,
    MessageReactionsView,
    MessageReactionView,
    PresenceView,
    ReadView,
)

urlpatterns = [
    path("messages/", DirectMessagesView.as_view(), name="direct-messages"),
    path("messages/<id:pk>/reactions/", MessageReactionsView.as_view(), name="message-reactions"),
    path("messages/<id:pk>/reactions/<str:emoji>/", MessageReactionView.as_view(), name="message-reaction"),
    path("conversations/", ConversationsView.as_view(), name="conversations"),
    path("conversations/read/", ReadView.as_view(), name="conversations-read"),
    path("presence/", PresenceView.as_view(), name="presence"),
]
