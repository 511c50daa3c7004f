from django.urls import path

from messagecenter.marketplace import views

urlpatterns = [
    # "Your Account" lists a seller's products beside the ways to the Message Center.
    path("account/", views.account, name="account"),
    path("products/<str:sku>/", views.product, name="product"),
    path("products/<str:sku>/ask/", views.ask_seller, name="ask-seller"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:number>/", views.order, name="order"),
    path("orders/<str:number>/contact-buyer/", views.contact_buyer, name="contact-buyer"),
    path("orders/<str:number>/returns/", views.request_return, name="request-return"),
    path("returns/<int:return_id>/decision/", views.decide_return, name="decide-return"),
    path("returns/<int:return_id>/received/", views.mark_return_received, name="return-received"),
    path("returns/<int:return_id>/photos/<int:photo_id>/", views.return_photo, name="return-photo"),
    path(
        "orders/<str:number>/contact/<int:storefront_id>/",
        views.contact_seller,
        name="contact-seller",
    ),
]
