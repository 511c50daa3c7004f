from django.contrib.auth.views import LogoutView
from django.urls import path

from messagecenter.accounts import views

urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
]
