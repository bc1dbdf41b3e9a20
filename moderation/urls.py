"""The desk's routes: reports, and `groups/`, `posts/` and `messages/{id}/` with their staff delete
(the views of `groups.views` and `posts.views`, extended by `moderation.views`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

import config.rest.params  # noqa: F401  (registers the `id` converter)
from moderation.views import (
    AnnouncementsView,
    DismissAnnouncementView,
    GroupViewSet,
    MessageView,
    PostViewSet,
    ReportsView,
)

router = SimpleRouter()
router.register("groups", GroupViewSet, basename="group")
router.register("posts", PostViewSet, basename="post")

urlpatterns = [
    *router.urls,
    path("reports/", ReportsView.as_view(), name="reports"),
    path("messages/<id:pk>/", MessageView.as_view(), name="message"),
    path("announcements/", AnnouncementsView.as_view(), name="announcements"),
    path("announcements/<id:pk>/dismiss/", DismissAnnouncementView.as_view(), name="dismiss-announcement"),
]
