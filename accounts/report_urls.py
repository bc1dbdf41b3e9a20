from django.urls import path

from accounts.report_views import ReportsView

urlpatterns = [path("reports/", ReportsView.as_view(), name="reports")]
