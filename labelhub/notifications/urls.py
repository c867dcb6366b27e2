"""Console URLs of the notification center (in the console namespace)."""

from django.urls import path

from labelhub.notifications import views

urlpatterns = [
    path("notifications/", views.NotificationsView.as_view(), name="notifications"),
]
