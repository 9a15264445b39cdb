"""Offline verification of custody-log proof bundles.

``svidok log proof ITEM --json`` prints a bundle showing that some events are
in the custody log, under a tree head the log signed::

    {
      "version": 1,
      "public_key": "<64 hex: raw Ed25519 public key of the log>",
      "head": {"key_id": ..., "root": ..., "signature": ..., "size": ..., "time": ...},
      "events": [
        {
          "index": 17,                       # position of the event in the log
          "event": "<canonical JSON text>",  # the exact text that was logged
          "leaf_hash": "<64 hex>",           # SHA-256(0x00 || UTF-8 of event)
          "proof": ["<64 hex>", ...]         # RFC 6962 inclusion proof, leaf upwards
        }
      ]
    }

A third party can check it with this package alone (no database, no Django)
using :func:`verify_proof_bundle`, or by hand: rebuild the signed payload as
described in :mod:`svidok.core.custody.signing`, check the Ed25519 signature,
hash each event and check its inclusion proof against the signed root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from svidok.core.canonical import canonical_json
from svidok.core.custody.merkle import HASH_SIZE, hash_leaf, verify_inclusion
from svidok.core.custody.signing import (
    PUBLIC_KEY_SIZE,
    SignedTreeHead,
    decode_hex,
    key_id_for,
    public_key_from_bytes,
    verify_tree_head,
)
from svidok.core.errors import InvalidInput, ProofError, SignatureError

__all__ = ["BUNDLE_VERSION", "verify_proof_bundle"]

BUNDLE_VERSION: Final = 1
_BUNDLE_FIELDS: Final = frozenset({"version", "public_key", "head", "events"})
_EVENT_FIELDS: Final = frozenset({"index", "event", "leaf_hash", "proof"})


@dataclass(frozen=True)
class _EventProof:
    index: int
    text: str
    leaf_hash: bytes
    proof: list[bytes]


def verify_proof_bundle(bundle: Any, *, trusted_public_key: bytes | None = None) -> None:
    """Check a proof bundle; return ``None`` or raise.

    Checks, in order: the bundle's shape (:class:`InvalidInput` naming the
    field), the head's signature (:class:`SignatureError`), then for each event
    that its text is canonical JSON, that it hashes to its leaf hash and that
    its inclusion proof leads to the signed root (:class:`ProofError` naming
    the event's index).

    ``trusted_public_key`` is the log's raw 32-byte Ed25519 public key, and it
    must come from out of band (published by the log's operator, exchanged in
    court...). Without it the bundle is checked against its own key, which
    shows only that the bundle is internally consistent: anyone can make a
    self-consistent bundle with a key of their own.
    """
    if trusted_public_key is not None:
        public_key_from_bytes(trusted_public_key)  # a malformed key is the caller's error
    public_key, head, events = _parse_bundle(bundle)
    if trusted_public_key is not None:
        if public_key != trusted_public_key:
            raise SignatureError(
                f"proof bundle names key {key_id_for(public_key)},"
                f" expected the trusted key {key_id_for(trusted_public_key)}",
                expected=key_id_for(trusted_public_key),
                found=key_id_for(public_key),
            )
        public_key = trusted_public_key
    verify_tree_head(head, public_key)
    for event in events:
        _verify_event(event, head)


def _verify_event(event: _EventProof, head: SignedTreeHead) -> None:
    data = _event_bytes(event)
    expected = hash_leaf(data)
    if event.leaf_hash != expected:
        raise ProofError(
            f"event {event.index}: leaf hash does not match the event text:"
            f" expected {expected.hex()}, got {event.leaf_hash.hex()}",
            index=event.index,
            expected=expected.hex(),
            found=event.leaf_hash.hex(),
        )
    try:
        verify_inclusion(
            leaf_hash=event.leaf_hash,
            index=event.index,
            size=head.head.size,
            proof=event.proof,
            root=head.head.root,
        )
    except ProofError as error:
        extra = {**error.extra, "index": event.index}
        raise ProofError(f"event {event.index}: {error.message}", **extra) from error


def _event_bytes(event: _EventProof) -> bytes:
    """The UTF-8 bytes of the event text, which must be canonical JSON."""
    where = f"event {event.index}"
    try:
        value = json.loads(event.text)
    except ValueError as error:
        raise InvalidInput(f"{where}: event text is not JSON: {error}", index=event.index) from None
    try:
        data = event.text.encode("utf-8")
        canonical = canonical_json(value)
    except UnicodeError:
        # Lone surrogates, written raw or as \u escapes, have no UTF-8 form.
        raise InvalidInput(
            f"{where}: event text holds text with no UTF-8 form (a lone surrogate)",
            index=event.index,
        ) from None
    except InvalidInput as error:
        raise InvalidInput(f"{where}: {error.message}", index=event.index) from None
    # The log hashes canonical text only. Anything else (spacing, key order,
    # a duplicated key that a reader might resolve differently) cannot be an
    # event as logged, even if some log happened to hash it.
    if data != canonical:
        raise ProofError(
            f"{where}: event text is not canonical JSON:"
            f" expected {canonical.decode('utf-8')[:200]!r}, got {event.text[:200]!r}",
            index=event.index,
        )
    return data


def _parse_bundle(bundle: Any) -> tuple[bytes, SignedTreeHead, list[_EventProof]]:
    _check_object(bundle, "proof bundle", _BUNDLE_FIELDS)
    version = bundle["version"]
    if isinstance(version, bool) or version != BUNDLE_VERSION:
        raise InvalidInput(
            f"field 'version': expected {BUNDLE_VERSION}, got {version!r:.80}", field="version"
        )
    public_key = decode_hex(bundle["public_key"], PUBLIC_KEY_SIZE, "public_key")
    try:
        head = SignedTreeHead.from_json(bundle["head"])
    except InvalidInput as error:
        field = f"head.{error.extra['field']}" if "field" in error.extra else "head"
        raise InvalidInput(f"field 'head': {error.message}", field=field) from None
    events = bundle["events"]
    if not isinstance(events, list) or not events:
        # An empty bundle would "verify" while proving nothing.
        raise InvalidInput(
            f"field 'events' must be a non-empty list, got {events!r:.80}", field="events"
        )
    parsed = [_parse_event(item, f"events[{position}]") for position, item in enumerate(events)]
    seen: set[int] = set()
    for event in parsed:
        if event.index in seen:
            raise InvalidInput(f"field 'events' lists index {event.index} twice", field="events")
        seen.add(event.index)
    return public_key, head, parsed


def _parse_event(item: Any, where: str) -> _EventProof:
    _check_object(item, where, _EVENT_FIELDS)
    index = item["index"]
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidInput(
            f"field '{where}.index' must be an integer >= 0, got {index!r:.80}",
            field=f"{where}.index",
        )
    text = item["event"]
    if not isinstance(text, str):
        raise InvalidInput(
            f"field '{where}.event' must be a string of JSON text, got {type(text).__name__}",
            field=f"{where}.event",
        )
    proof = item["proof"]
    if not isinstance(proof, list):
        raise InvalidInput(
            f"field '{where}.proof' must be a list of hex hashes, got {type(proof).__name__}",
            field=f"{where}.proof",
        )
    return _EventProof(
        index=index,
        text=text,
        leaf_hash=decode_hex(item["leaf_hash"], HASH_SIZE, f"{where}.leaf_hash"),
        proof=[
            decode_hex(node, HASH_SIZE, f"{where}.proof[{position}]")
            for position, node in enumerate(proof)
        ],
    )


def _check_object(value: Any, where: str, fields: frozenset[str]) -> None:
    """``value`` must be a JSON object with exactly ``fields``; unknown ones are refused."""
    nested = where != "proof bundle"
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{where} must be a JSON object, got {type(value).__name__}",
            **({"field": where} if nested else {}),
        )
    prefix = f"{where}." if nested else ""
    missing = sorted(fields - value.keys())
    if missing:
        raise InvalidInput(
            f"{where} lacks field '{prefix}{missing[0]}'", field=f"{prefix}{missing[0]}"
        )
    unknown = sorted(str(key) for key in value.keys() - fields)
    if unknown:
        raise InvalidInput(
            f"{where} has unknown field '{prefix}{unknown[0]}'", field=f"{prefix}{unknown[0]}"
        )
