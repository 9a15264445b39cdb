from django.contrib.auth import views as auth_views
from django.urls import path

from svidok.web import account_views, audit_views, views
from svidok.web.access import public

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", public(auth_views.LoginView.as_view(template_name="svidok/login.html")),
         name="login"),
    path("login/code/", account_views.login_code, name="login-code"),
    path("logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("language/", views.switch_language, name="set-language"),
    path("account/", account_views.account, name="account"),
    path("account/second-factor/", account_views.second_factor, name="second-factor"),
    path("account/second-factor/off", account_views.second_factor_off, name="second-factor-off"),
    path("account/tokens/new", account_views.token_create, name="token-create"),
    path("account/tokens/revoke", account_views.token_revoke, name="token-revoke"),
    path("collections/", views.collection_list, name="collections"),
    path("items/", views.item_list, name="items"),
    path("upload/", views.upload, name="upload"),
    path("clusters/", views.clusters, name="clusters"),
    path("search/", views.text_search, name="text-search"),
    path("items/<uuid:item_id>/", views.item_detail, name="item"),
    path("items/<uuid:item_id>/proof", views.item_proof, name="item-proof"),
    path("items/<uuid:item_id>/original", views.item_download, name="item-download"),
    path("items/<uuid:item_id>/similar", views.item_similar, name="item-similar"),
    path("items/<uuid:item_id>/export", views.item_export_zip, name="item-export"),
    path("items/<uuid:item_id>/derived/<uuid:derived_id>", views.derived_file, name="derived"),
    path("items/<uuid:item_id>/acquisitions/<uuid:acquisition_id>/reveal/<str:field>",
         views.reveal_field, name="reveal"),
    path("items/<uuid:item_id>/trail", audit_views.item_trail, name="item-trail"),
    path("audit/users/", audit_views.user_list, name="audit-users"),
    path("audit/users/<str:username>", audit_views.user_trail, name="user-trail"),
]
