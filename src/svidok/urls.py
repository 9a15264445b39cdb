from django.urls import include, path

from svidok.api.urls import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("svidok.web.urls")),
]
