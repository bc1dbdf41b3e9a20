from django.urls import path

import config.rest.params  # noqa: F401  (registers the `id` converter)
from accounts import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/login/", views.LoginView.as_view(), name="login"),
    path("auth/refresh/", views.RefreshView.as_view(), name="refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/is-user/", views.IsUserView.as_view(), name="is-user"),
    path("me/settings/", views.SettingsView.as_view(), name="settings"),
]

from accounts import social_views  # noqa: E402

urlpatterns += [
    path("friends/", social_views.FriendsView.as_view(), name="friends"),
    path("friends/<id:user_id>/", social_views.FriendView.as_view(), name="friend"),
    path("friends/requests/", social_views.FriendRequestsView.as_view(), name="friend-requests"),
    path("friends/requests/<id:pk>/accept/", social_views.FriendRequestAnswerView.as_view(accept=True),
         name="friend-request-accept"),
    path("friends/requests/<id:pk>/decline/", social_views.FriendRequestAnswerView.as_view(accept=False),
         name="friend-request-decline"),
    path("blocks/", social_views.BlocksView.as_view(), name="blocks"),
    path("blocks/<id:user_id>/", social_views.BlockView.as_view(), name="block"),
    path("mutes/", social_views.MutesView.as_view(), name="mutes"),
    path("mutes/<id:user_id>/", social_views.MuteView.as_view(), name="mute"),
    path("notifications/", social_views.NotificationsView.as_view(), name="notifications"),
    path("notifications/read/", social_views.NotificationsReadView.as_view(), name="notifications-read"),
]
