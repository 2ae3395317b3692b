"""Pages of the board area of points (mounted under /points/): the public 积分公示榜 of each village."""

from django.urls import URLPattern, URLResolver, path

from points.views import board as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("board/", views.board_index, name="board_index"),
    path("board/<str:code>/", views.board, name="board"),
    path("board/<str:code>/poster/", views.board_poster, name="board_poster"),
    path("board/<str:code>/qr.svg", views.board_qr, name="board_qr"),
    path("board/<str:code>/awards/<int:award_id>/objection/", views.board_objection, name="board_objection"),
]
