"""Account pages: the second factor (TOTP) and personal API tokens."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from svidok.apps.accounts.second_factor import (
    confirmed_device,
    device_qr_svg,
    must_use_second_factor,
    pending_device,
    second_factor_check,
    second_factor_confirm,
    second_factor_remove,
)
from svidok.apps.accounts.tokens import api_token_create, api_token_list, api_token_revoke
from svidok.core.errors import Forbidden, InvalidInput, NotFound
from svidok.web.access import post_only, signed_in


def _actor(request: HttpRequest) -> str:
    return f"web:{request.user.get_username()}"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return "/"


@signed_in
def login_code(request: HttpRequest) -> HttpResponse:
    """Second step of logging in: a code from the authenticator app."""
    error = None
    if request.method == "POST":
        try:
            device = second_factor_check(user=request.user, code=request.POST.get("code", ""))
        except InvalidInput as exc:
            error = exc.message
        else:
            otp_login(request, device)
            return redirect(_next(request))
    return render(request, "svidok/login_code.html",
                  {"error": error, "next": _next(request)}, status=400 if error else 200)


@signed_in
def second_factor(request: HttpRequest) -> HttpResponse:
    """Set up (or replace) the TOTP second factor: scan, then confirm with a code."""
    error = None
    if request.method == "POST":
        try:
            device = second_factor_confirm(user=request.user, code=request.POST.get("code", ""),
                                           actor=_actor(request))
        except InvalidInput as exc:
            error = exc.message
        else:
            otp_login(request, device)
            messages.success(request, _("Second factor enabled."))
            return redirect(_next(request))
    device = pending_device(request.user)
    context = {"qr_svg": device_qr_svg(device), "secret": _base32(device.bin_key),
               "required": must_use_second_factor(request.user), "error": error,
               "next": _next(request)}
    return render(request, "svidok/second_factor.html", context, status=400 if error else 200)


def _base32(key: bytes) -> str:
    return base64.b32encode(key).decode("ascii").rstrip("=")


@signed_in
def account(request: HttpRequest) -> HttpResponse:
    context = {
        "has_second_factor": confirmed_device(request.user) is not None,
        "second_factor_required": must_use_second_factor(request.user),
        "tokens": api_token_list(username=request.user.get_username()),
        "new_token": request.session.pop("svidok_new_token", None),
    }
    return render(request, "svidok/account.html", context)


@signed_in
@post_only
def token_create(request: HttpRequest) -> HttpResponse:
    try:
        _, raw = api_token_create(username=request.user.get_username(),
                                  name=request.POST.get("name", ""), actor=_actor(request))
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        # Shown once on the next page, then gone: only its hash is kept.
        request.session["svidok_new_token"] = raw
    return redirect("account")


@signed_in
@post_only
def token_revoke(request: HttpRequest) -> HttpResponse:
    try:
        api_token_revoke(username=request.user.get_username(),
                         prefix=request.POST.get("prefix", ""), actor=_actor(request))
    except NotFound as exc:
        messages.error(request, exc.message)
    return redirect("account")


@signed_in
@post_only
def second_factor_off(request: HttpRequest) -> HttpResponse:
    try:
        second_factor_remove(user=request.user, actor=_actor(request))
    except Forbidden as exc:
        messages.error(request, exc.message)
    return redirect("account")
