"""The desk's routes: reports, and `groups/`, `posts/` and `messages/{id}/` with their staff delete
(the views of `groups.views` and `posts.views`, extended by `moderation.views`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

import config.rest.params  # noqa: F401  (registers the `id` converter)
from moderation.views import GroupViewSet, MessageView, PostViewSet, ReportsView

router = SimpleRouter()
router.register("groups", GroupViewSet, basename="group")
router.register("posts", PostViewSet, basename="post")

urlpatterns = [
    *router.urls,
    path("reports/", ReportsView.as_view(), name="reports"),
    path("messages/<id:pk>/", MessageView.as_view(), name="message"),
]
