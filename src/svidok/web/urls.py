from django.contrib.auth import views as auth_views
from django.urls import path

from svidok.web import views
from svidok.web.access import public

urlpatterns = [
    path("", views.item_list, name="items"),
    path("login/", public(auth_views.LoginView.as_view(template_name="svidok/login.html")),
         name="login"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("language/", views.switch_language, name="set-language"),
    path("items/<uuid:item_id>/", views.item_detail, name="item"),
    path("items/<uuid:item_id>/proof", views.item_proof, name="item-proof"),
    path("items/<uuid:item_id>/original", views.item_download, name="item-download"),
    path("items/<uuid:item_id>/derived/<uuid:derived_id>", views.derived_file, name="derived"),
]
