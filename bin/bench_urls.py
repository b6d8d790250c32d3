"""The project's URLs plus ``/bench/bare``: a bare Django JSON view (no auth, no database),
the yardstick the authorize benchmark divides by. Mounted only by bin/bench_settings.py."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "bytes": len(request.body)})


urlpatterns = [
    path("bench/bare", bare),
    path("", include("portal.urls")),
]
