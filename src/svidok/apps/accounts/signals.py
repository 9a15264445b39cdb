"""Logins, failed logins and lock-outs go to the access log (usernames only, never
passwords)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed

from svidok.apps.accounts.services import access_log_record


def _address(request: Any) -> str:
    return str(getattr(request, "META", {}).get("REMOTE_ADDR", ""))


def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None,
                  **kwargs: Any) -> None:
    access_log_record(actor=f"web:{credentials.get('username', '')}", action="login.failed",
                      details={"address": _address(request)})


def _logged_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    access_log_record(actor=f"web:{user.get_username()}", action="login.succeeded",
                      details={"address": _address(request)})


def _locked_out(sender: Any, request: Any = None, username: str | None = None,
                ip_address: str | None = None, **kwargs: Any) -> None:
    access_log_record(actor=f"web:{username or ''}", action="login.locked_out",
                      details={"address": ip_address or _address(request)})


def connect() -> None:
    user_login_failed.connect(_login_failed, dispatch_uid="svidok-login-failed")
    user_logged_in.connect(_logged_in, dispatch_uid="svidok-logged-in")
    user_locked_out.connect(_locked_out, dispatch_uid="svidok-locked-out")
