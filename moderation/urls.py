"""The desk's routes: reports, and `groups/` and `posts/` with their staff delete (the viewsets
of `groups.views` and `posts.views`, extended by `moderation.views`)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from moderation.views import GroupViewSet, PostViewSet, ReportsView

router = SimpleRouter()
router.register("groups", GroupViewSet, basename="group")
router.register("posts", PostViewSet, basename="post")

urlpatterns = [*router.urls, path("reports/", ReportsView.as_view(), name="reports")]
