"""Console URLs of the workspaces app (console namespace): the first-run page."""

from django.urls import path

from labelhub.workspaces import views

urlpatterns = [
    path("setup/", views.setup, name="setup"),
]
