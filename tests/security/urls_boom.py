"""A URLconf for tests/security/test_personal_data.py: the project's routes plus two that fail with an ID
number and a phone in the exception, as a bug in a service might."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401

ID_NUMBER = "420625197005010011"
PHONE = "13800001111"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(f"居民 {ID_NUMBER} 电话 {PHONE} 写入失败")


urlpatterns = [
    path("security-boom/", boom),
    path("api/v1/security-boom/", boom),
    *urlpatterns,
]
