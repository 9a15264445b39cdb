"""The API's one error shape, also for answers given outside django-ninja.

Django itself answers a path no route matches (404) and a method a route does
not take (405) with HTML; under ``/api/`` a client gets the same
``{"message", "extra"}`` JSON as for every other error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

MESSAGES = {404: "not found", 405: "method not allowed"}


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (request.path_info.startswith("/api/") and response.status_code in MESSAGES
                and not response.get("Content-Type", "").startswith("application/json")):
            shaped = JsonResponse({"message": MESSAGES[response.status_code], "extra": {}},
                                  status=response.status_code)
            if "Allow" in response:
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
