from django.urls import include, path

urlpatterns = [
    path("", include("svidok.web.urls")),
]
