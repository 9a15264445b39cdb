"""Every API error has one shape: ``{"message": "...", "extra": {...}}``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from svidok.core.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    SvidokError,
    TooLarge,
    VerificationError,
)
from svidok.web.uploads import upload_limit, upload_refused

log = logging.getLogger(__name__)

STATUS = [(TooLarge, 413), (NotFound, 404), (Forbidden, 403), (InvalidInput, 400),
          (VerificationError, 409)]


CLIENT_ERRORS: list[tuple[type[Exception], int, str]] = [
    (RequestDataTooBig, 413, "the request is too large"),
    (MultiPartParserError, 400, "malformed multipart body"),
    (SuspiciousOperation, 400, "request refused"),
    (BadRequest, 400, "bad request"),
]


def _client_error(reply: Callable[..., HttpResponse], status: int,
                  what: str) -> Callable[[HttpRequest, Exception], HttpResponse]:
    def handle(request: HttpRequest, exc: Exception) -> HttpResponse:
        return reply(request, status, f"{what}: {exc}")

    return handle


class ErrorOut(Schema):
    message: str
    extra: dict[str, Any]


def install_error_handlers(api: NinjaAPI) -> None:
    def reply(request: HttpRequest, status: int, message: str,
              extra: dict[str, Any] | None = None) -> HttpResponse:
        return api.create_response(request, {"message": message, "extra": extra or {}},
                                   status=status)

    @api.exception_handler(SvidokError)
    def svidok_error(request: HttpRequest, exc: SvidokError) -> HttpResponse:
        for kind, status in STATUS:
            if isinstance(exc, kind):
                return reply(request, status, exc.message, exc.extra)
        log.error("API error: %s", exc.diagnostics())
        return reply(request, 500, "the server could not complete this request; "
                                   "its log has the details")

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if upload_refused(request):  # the files were cut off, hence "missing"
            return reply(request, 413, f"the upload exceeds the limit of {upload_limit():,} bytes")
        errors = [{"location": list(map(str, e.get("loc", ()))), "problem": str(e.get("msg", ""))}
                  for e in exc.errors]
        return reply(request, 422, "the request does not match the API's schema",
                     {"errors": errors})

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return reply(request, 401, "authentication required: send 'Authorization: Bearer "
                                   "<token>' with an active API token")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return reply(request, exc.status_code, str(exc.message))

    # A malformed or oversized request body is the client's error, not the server's.
    for kind, status, what in CLIENT_ERRORS:
        api.add_exception_handler(kind, _client_error(reply, status, what))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return reply(request, 404, "not found")

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("unexpected API error")
        return reply(request, 500, "the server could not complete this request; "
                                   "its log has the details")
