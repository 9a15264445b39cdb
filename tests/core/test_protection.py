"""Sealing protected values: nothing readable at rest, nothing movable between rows."""

from __future__ import annotations

import base64

import pytest

from svidok.core.errors import ConfigurationError, VerificationError
from svidok.core.protection import FieldCipher


@pytest.fixture
def cipher(tmp_path):
    FieldCipher.generate_key_file(tmp_path / "fields.key")
    return FieldCipher.from_key_file(tmp_path / "fields.key")


def test_round_trip_and_nothing_readable(cipher):
    sealed = cipher.seal("Олена Коваль, +380 50 000 0000", context="row:1")
    assert "Олена" not in sealed and "380" not in sealed
    assert cipher.open(sealed, context="row:1") == "Олена Коваль, +380 50 000 0000"


def test_same_value_seals_differently(cipher):
    assert cipher.seal("x", context="row:1") != cipher.seal("x", context="row:1")


def test_ciphertext_moved_to_another_row_is_refused(cipher):
    sealed = cipher.seal("name", context="row:1")
    with pytest.raises(VerificationError, match="row:2"):
        cipher.open(sealed, context="row:2")


def _flip_a_byte(sealed):
    """One bit of the sealed bytes changed (a changed base64 letter may only touch
    padding bits, which decode to the same bytes)."""
    raw = bytearray(base64.b64decode(sealed[len("v1:"):]))
    raw[len(raw) // 2] ^= 0x01
    return "v1:" + base64.b64encode(bytes(raw)).decode("ascii")


@pytest.mark.parametrize("damage", [
    _flip_a_byte,
    lambda s: s.replace("v1:", "v2:"),
    lambda s: s + "!!",
])
def test_altered_ciphertext_is_refused(cipher, damage):
    sealed = cipher.seal("name", context="row:1")
    with pytest.raises(VerificationError):
        cipher.open(damage(sealed), context="row:1")


def test_another_key_cannot_open(cipher, tmp_path):
    FieldCipher.generate_key_file(tmp_path / "other.key")
    other = FieldCipher.from_key_file(tmp_path / "other.key")
    with pytest.raises(VerificationError):
        other.open(cipher.seal("name", context="c"), context="c")


def test_commitments_are_keyed_and_bound_to_context(cipher, tmp_path):
    FieldCipher.generate_key_file(tmp_path / "other.key")
    other = FieldCipher.from_key_file(tmp_path / "other.key")
    value = cipher.commitment("name", context="a")
    assert value == cipher.commitment("name", context="a")
    assert value != cipher.commitment("name", context="b")
    assert value != other.commitment("name", context="a")


def test_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "fields.key"
    FieldCipher.generate_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        FieldCipher.generate_key_file(path)


def test_missing_or_bad_key_says_what_to_do(tmp_path):
    with pytest.raises(ConfigurationError, match="svidok init"):
        FieldCipher.from_key_file(tmp_path / "absent.key")
    (tmp_path / "bad.key").write_text("not base64 ***")
    with pytest.raises(ConfigurationError, match="base64"):
        FieldCipher.from_key_file(tmp_path / "bad.key")
