"""Direct messages, conversations and presence; `groups/` itself is routed by `moderation.urls`, whose viewset adds the
staff delete to `groups.views.GroupViewSet`."""

from django.urls import path

from groups.views import ConversationsView, DirectMessagesView, PresenceView, ReadView

urlpatterns = [
    path("messages/", DirectMessagesView.as_view(), name="direct-messages"),
    path("conversations/", ConversationsView.as_view(), name="conversations"),
    path("conversations/read/", ReadView.as_view(), name="conversations-read"),
    path("presence/", PresenceView.as_view(), name="presence"),
]
