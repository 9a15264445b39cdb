"""The TOTP second factor (django-otp): required for administrators, optional for others."""

from __future__ import annotations

import io
from typing import Any, Literal

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from svidok.apps.accounts.models import Membership, Role
from svidok.apps.accounts.services import access_log_record
from svidok.core.errors import Forbidden, InvalidInput

DEVICE_NAME = "authenticator app"


def must_use_second_factor(user: Any) -> bool:
    """Administrators of the instance or of any collection must use a second factor."""
    return bool(user.is_superuser) or Membership.objects.filter(
        user=user, role=Role.ADMIN).exists()


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_due(user: Any) -> Literal["code", "setup"] | None:
    """What a signed-in, not yet verified user owes: a code, a device set up, or nothing."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return "code"
    if must_use_second_factor(user):
        return "setup"
    return None


def pending_device(user: Any) -> TOTPDevice:
    """The device being set up (made once, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def device_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code, to be scanned by an authenticator app."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage,
                        box_size=8)
    out = io.BytesIO()
    image.save(out)
    text = out.getvalue().decode("utf-8")
    return text[text.index("<svg"):]  # drop the XML declaration to embed it in HTML


def _checked(device: TOTPDevice, code: str) -> bool:
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != device.digits:
        return False
    allowed, _ = device.verify_is_allowed()
    return bool(allowed) and bool(device.verify_token(code))


def second_factor_confirm(*, user: Any, code: str, actor: str) -> TOTPDevice:
    """Confirm the pending device with a code from the app; the factor is then on."""
    with transaction.atomic():
        device = pending_device(user)
        if not _checked(device, code):
            raise InvalidInput("that code is not the one the app shows now; try the next one")
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        access_log_record(actor=actor, action="second_factor.enabled", target=user.username)
    return device


def second_factor_check(*, user: Any, code: str) -> TOTPDevice:
    """The user's device if ``code`` is valid now; failures are throttled and logged."""
    device = confirmed_device(user)
    if device is None:
        raise InvalidInput("no second factor is set up for this account")
    if not _checked(device, code):
        access_log_record(actor=f"web:{user.username}", action="second_factor.failed",
                          target=user.username)
        raise InvalidInput("wrong or expired code")
    return device


def second_factor_remove(*, user: Any, actor: str) -> None:
    """Turn the second factor off; administrators may not."""
    if must_use_second_factor(user):
        raise Forbidden("administrators must keep a second factor")
    with transaction.atomic():
        deleted, _ = TOTPDevice.objects.filter(user=user).delete()
        if deleted:
            access_log_record(actor=actor, action="second_factor.removed", target=user.username)
