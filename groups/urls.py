"""Direct messages; `groups/` itself is routed by `moderation.urls`, whose viewset adds the
staff delete to `groups.views.GroupViewSet`."""

from django.urls import path

from groups.views import DirectMessagesView

urlpatterns = [path("messages/", DirectMessagesView.as_view(), name="direct-messages")]
