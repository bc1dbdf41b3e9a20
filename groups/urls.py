from django.urls import path
from rest_framework.routers import SimpleRouter

from groups.views import DirectMessagesView, GroupViewSet

router = SimpleRouter()
router.register("groups", GroupViewSet, basename="group")

urlpatterns = [*router.urls, path("messages/", DirectMessagesView.as_view(), name="direct-messages")]
