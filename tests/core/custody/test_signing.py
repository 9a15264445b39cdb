"""Tests for Ed25519 signed tree heads and the signing key file."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svidok.core.custody.signing import (
    SignedTreeHead,
    SigningKey,
    TreeHead,
    key_id_for,
    public_key_from_bytes,
    public_key_from_pem,
    public_key_to_pem,
    utc_timestamp,
    verify_tree_head,
)
from svidok.core.errors import ConfigurationError, InvalidInput, SignatureError

ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
TIME = "2026-11-23T17:12:00.123456Z"
# RFC 8032 §7.1, test 1: a fixed key makes the signature a known answer.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def head() -> TreeHead:
    return TreeHead(size=8, root=ROOT, time=TIME)


def flip_bit(value: bytes, bit: int = 0) -> bytes:
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


class TestTreeHead:
    def test_payload_is_the_documented_bytes(self, head: TreeHead) -> None:
        key_id = "ed25519:" + "ab" * 32
        assert head.payload(key_id) == (
            b"svidok-tree-head/v1\n"
            b'{"key_id":"ed25519:' + b"ab" * 32 + b'",'
            b'"root":"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",'
            b'"size":8,"time":"2026-11-23T17:12:00.123456Z"}'
        )

    def test_now_is_utc_with_microseconds(self) -> None:
        head = TreeHead.now(0, ROOT)
        parsed = datetime.fromisoformat(head.time)
        assert head.time.endswith("Z") and len(head.time) == len(TIME)
        assert abs(datetime.now(UTC) - parsed) < timedelta(minutes=1)

    def test_timestamp_converts_to_utc(self) -> None:
        kyiv = timezone(timedelta(hours=2))
        moment = datetime(2026, 11, 23, 19, 12, 0, 123456, tzinfo=kyiv)
        assert utc_timestamp(moment) == TIME

    def test_timestamp_refuses_naive_time(self) -> None:
        with pytest.raises(InvalidInput, match="needs a time zone"):
            utc_timestamp(datetime(2026, 11, 23, 17, 12))

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"size": -1}, "tree size must be an integer >= 0"),
            ({"size": True}, "tree size must be an integer >= 0"),
            ({"root": ROOT[:31]}, "tree root must be 32 bytes"),
            ({"root": ROOT.hex()}, "tree root must be 32 bytes"),
            ({"time": "2026-11-23T17:12:00+00:00"}, "UTC ISO-8601"),
            ({"time": "2026-11-23 17:12:00Z"}, "UTC ISO-8601"),
            ({"time": "2026-02-30T17:12:00Z"}, "not a real moment"),
        ],
    )
    def test_refuses_bad_fields(self, changes: dict[str, Any], message: str) -> None:
        fields: dict[str, Any] = {"size": 8, "root": ROOT, "time": TIME} | changes
        with pytest.raises(InvalidInput, match=message):
            TreeHead(**fields)


class TestSignedTreeHead:
    def test_json_round_trip(self, key: SigningKey, head: TreeHead) -> None:
        signed = key.sign(head)
        data = signed.to_json()
        assert data == {
            "key_id": key.key_id,
            "root": ROOT.hex(),
            "signature": signed.signature.hex(),
            "size": 8,
            "time": TIME,
        }
        assert SignedTreeHead.from_json(data) == signed

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"size": None}, "size"),
            ({"size": "8"}, "size"),
            ({"size": -1}, "size"),
            ({"size": False}, "size"),
            ({"root": "5DC9" + ROOT.hex()[4:]}, "root"),
            ({"root": ROOT.hex()[:-2]}, "root"),
            ({"root": None}, "root"),
            ({"signature": "00" * 63}, "signature"),
            ({"signature": "zz" * 64}, "signature"),
            ({"key_id": "ed25519:xyz"}, "key_id"),
            ({"key_id": "rsa:" + "00" * 32}, "key_id"),
            ({"time": "yesterday"}, "time"),
            ({"time": 1700000000}, "time"),
            ({"extra": 1}, "extra"),
        ],
    )
    def test_from_json_names_the_bad_field(
        self, key: SigningKey, head: TreeHead, changes: dict[str, Any], field: str
    ) -> None:
        data = key.sign(head).to_json() | changes
        with pytest.raises(InvalidInput, match=field) as caught:
            SignedTreeHead.from_json(data)
        assert caught.value.extra["field"] == field

    @pytest.mark.parametrize("field", ["size", "root", "signature", "key_id", "time"])
    def test_from_json_names_a_missing_field(
        self, key: SigningKey, head: TreeHead, field: str
    ) -> None:
        data = key.sign(head).to_json()
        del data[field]
        with pytest.raises(InvalidInput, match=f"lacks field '{field}'"):
            SignedTreeHead.from_json(data)

    def test_from_json_refuses_non_objects(self) -> None:
        with pytest.raises(InvalidInput, match="JSON object, got list"):
            SignedTreeHead.from_json([])


class TestSigningKey:
    def test_key_id_is_sha256_of_raw_public_key(self, key: SigningKey) -> None:
        raw = key.public_key_bytes()
        assert len(raw) == 32
        assert key.key_id == "ed25519:" + hashlib.sha256(raw).hexdigest()
        assert key.key_id == key_id_for(raw)

    def test_known_answer_signature(self, head: TreeHead) -> None:
        # Ed25519 is deterministic: the same key and payload give the same bytes.
        key = SigningKey(Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET))
        assert key.public_key_bytes() == RFC8032_PUBLIC
        signed = key.sign(head)
        assert signed.signature == key.sign(head).signature
        verify_tree_head(signed, RFC8032_PUBLIC)

    def test_repr_shows_no_key_material(self, key: SigningKey) -> None:
        assert repr(key) == f"SigningKey({key.key_id})"

    def test_save_then_load(self, key: SigningKey, head: TreeHead, tmp_path: Path) -> None:
        path = tmp_path / "new" / "dirs" / "log.key"
        key.save(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
        loaded = SigningKey.load(path)
        assert loaded.key_id == key.key_id
        verify_tree_head(loaded.sign(head), key.public_key_bytes())

    def test_save_is_private_even_with_a_lax_umask(self, key: SigningKey, tmp_path: Path) -> None:
        previous = os.umask(0)
        try:
            key.save(tmp_path / "log.key")
        finally:
            os.umask(previous)
        assert stat.S_IMODE((tmp_path / "log.key").stat().st_mode) == 0o600

    def test_save_refuses_to_overwrite(
        self, key: SigningKey, other_key: SigningKey, tmp_path: Path
    ) -> None:
        path = tmp_path / "log.key"
        key.save(path)
        before = path.read_bytes()
        with pytest.raises(ConfigurationError, match="refusing to overwrite"):
            other_key.save(path)
        assert path.read_bytes() == before

    def test_save_refuses_to_follow_a_symlink(self, key: SigningKey, tmp_path: Path) -> None:
        target = tmp_path / "elsewhere"
        (tmp_path / "log.key").symlink_to(target)
        with pytest.raises(ConfigurationError, match="refusing to overwrite"):
            key.save(tmp_path / "log.key")
        assert not target.exists()

    @pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
    def test_load_refuses_a_file_others_can_access(
        self, key: SigningKey, tmp_path: Path, mode: int
    ) -> None:
        path = tmp_path / "log.key"
        key.save(path)
        path.chmod(mode)
        with pytest.raises(ConfigurationError, match=f"has mode {mode:#o}") as caught:
            SigningKey.load(path)
        assert caught.value.extra["mode"] == oct(mode)

    def test_load_reports_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match="cannot open signing key"):
            SigningKey.load(tmp_path / "absent.key")

    def test_load_refuses_garbage(self, tmp_path: Path) -> None:
        path = tmp_path / "log.key"
        path.write_bytes(b"not a key")
        path.chmod(0o600)
        with pytest.raises(ConfigurationError, match="not an unencrypted PEM private key"):
            SigningKey.load(path)

    def test_load_refuses_other_key_types(self, tmp_path: Path) -> None:
        path = tmp_path / "log.key"
        path.write_bytes(
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
        with pytest.raises(ConfigurationError, match="must be Ed25519"):
            SigningKey.load(path)


class TestVerifyTreeHead:
    def test_round_trip(self, key: SigningKey, head: TreeHead) -> None:
        signed = key.sign(head)
        verify_tree_head(signed, key.public_key_bytes())
        verify_tree_head(SignedTreeHead.from_json(signed.to_json()), key.public_key_bytes())

    @pytest.mark.parametrize(
        "changes",
        [
            {"size": 9},
            {"size": 0},
            {"root": flip_bit(ROOT, 7)},
            {"root": flip_bit(ROOT, 255)},
            {"time": "2026-11-23T17:12:00.123457Z"},
        ],
        ids=["size+1", "size0", "root-bit7", "root-bit255", "time+1us"],
    )
    def test_tampered_head_fails(
        self, key: SigningKey, head: TreeHead, changes: dict[str, Any]
    ) -> None:
        signed = key.sign(head)
        tampered = dataclasses.replace(signed, head=dataclasses.replace(head, **changes))
        with pytest.raises(SignatureError, match="does not verify"):
            verify_tree_head(tampered, key.public_key_bytes())

    @pytest.mark.parametrize("bit", [0, 100, 511])
    def test_tampered_signature_fails(self, key: SigningKey, head: TreeHead, bit: int) -> None:
        signed = key.sign(head)
        tampered = dataclasses.replace(signed, signature=flip_bit(signed.signature, bit))
        with pytest.raises(SignatureError, match="does not verify"):
            verify_tree_head(tampered, key.public_key_bytes())

    def test_truncated_signature_fails(self, key: SigningKey, head: TreeHead) -> None:
        signed = key.sign(head)
        tampered = dataclasses.replace(signed, signature=signed.signature[:-1])
        with pytest.raises(SignatureError):
            verify_tree_head(tampered, key.public_key_bytes())

    def test_head_from_another_key_fails(
        self, key: SigningKey, other_key: SigningKey, head: TreeHead
    ) -> None:
        signed = other_key.sign(head)
        with pytest.raises(
            SignatureError,
            match=f"tree head was signed by key {other_key.key_id}, expected {key.key_id}",
        ):
            verify_tree_head(signed, key.public_key_bytes())

    def test_signature_from_another_key_under_our_key_id_fails(
        self, key: SigningKey, head: TreeHead
    ) -> None:
        # The forger signs exactly our payload, key id included, with their key.
        forger = Ed25519PrivateKey.generate()
        forged = SignedTreeHead(
            head=head, key_id=key.key_id, signature=forger.sign(head.payload(key.key_id))
        )
        with pytest.raises(SignatureError, match="does not verify"):
            verify_tree_head(forged, key.public_key_bytes())

    def test_malformed_public_key_is_invalid_input(self, key: SigningKey, head: TreeHead) -> None:
        with pytest.raises(InvalidInput, match="32 bytes, got 31"):
            verify_tree_head(key.sign(head), key.public_key_bytes()[:31])


class TestPublicKeyHelpers:
    def test_pem_round_trip(self, key: SigningKey) -> None:
        pem = public_key_to_pem(key.public_key_bytes())
        assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
        assert public_key_from_pem(pem) == key.public_key_bytes()

    def test_from_pem_refuses_other_key_types(self) -> None:
        pem = (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        with pytest.raises(InvalidInput, match="expected an Ed25519 public key"):
            public_key_from_pem(pem)

    def test_from_pem_refuses_garbage(self) -> None:
        with pytest.raises(InvalidInput, match="not a PEM public key"):
            public_key_from_pem(b"garbage")

    @pytest.mark.parametrize("size", [0, 31, 33])
    def test_from_bytes_refuses_wrong_length(self, size: int) -> None:
        with pytest.raises(InvalidInput, match=f"32 bytes, got {size}"):
            public_key_from_bytes(b"\x01" * size)
