"""Tests for offline verification of proof bundles.

Bundles are built by hand here from the Merkle and signing functions, the way
a third party would rebuild one, so the test does not depend on the log code.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from svidok.core.canonical import canonical_json
from svidok.core.custody.merkle import hash_leaf, inclusion_proofs, root_from_leaf_hashes
from svidok.core.custody.proofs import verify_proof_bundle
from svidok.core.custody.signing import SigningKey, TreeHead
from svidok.core.errors import InvalidInput, ProofError, SignatureError, SvidokError

TIME = "2026-11-23T17:12:00.123456Z"
EVENTS: list[dict[str, Any]] = [
    {"action": "ingest", "item": f"item-{n}", "seq": n, "note": "Київ"} for n in range(11)
]
PROVEN = [0, 5, 10]

Bundle = dict[str, Any]
Mutation = Callable[[Bundle], None]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return SigningKey.generate()


def build_bundle(key: SigningKey, events: list[dict[str, Any]], proven: list[int]) -> Bundle:
    """A version 1 bundle proving ``proven`` events of a log holding ``events``."""
    texts = [canonical_json(event).decode("utf-8") for event in events]
    leaf_hashes = [hash_leaf(text.encode("utf-8")) for text in texts]
    head = key.sign(TreeHead(size=len(texts), root=root_from_leaf_hashes(leaf_hashes), time=TIME))
    proofs = inclusion_proofs(leaf_hashes, proven, len(texts))
    return {
        "version": 1,
        "public_key": key.public_key_bytes().hex(),
        "head": head.to_json(),
        "events": [
            {
                "index": index,
                "event": texts[index],
                "leaf_hash": leaf_hashes[index].hex(),
                "proof": [node.hex() for node in proofs[index]],
            }
            for index in proven
        ],
    }


@pytest.fixture
def bundle(key: SigningKey) -> Bundle:
    return build_bundle(key, EVENTS, PROVEN)


def flip_hex(text: str) -> str:
    """Change the first hex digit, keeping the value well-formed."""
    return ("1" if text[0] == "0" else "0") + text[1:]


def set_event_text(position: int, text: str, *, rehash: bool) -> Mutation:
    """Replace an event's text, optionally fixing up its leaf hash to match."""

    def mutate(bundle: Bundle) -> None:
        event = bundle["events"][position]
        event["event"] = text
        if rehash:
            event["leaf_hash"] = hash_leaf(text.encode("utf-8")).hex()

    return mutate


def edited_event(position: int) -> str:
    changed = dict(EVENTS[PROVEN[position]], action="delete")
    return canonical_json(changed).decode("utf-8")


def spaced_event(position: int) -> str:
    return json.dumps(EVENTS[PROVEN[position]], sort_keys=True, ensure_ascii=False)


def set_field(path: str, value: Any) -> Mutation:
    """Set a dotted path such as ``events.1.index`` (list positions as numbers)."""

    def mutate(bundle: Bundle) -> None:
        *parents, last = path.split(".")
        target: Any = bundle
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def delete_field(path: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        *parents, last = path.split(".")
        target: Any = bundle
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return mutate


def edit_proof_hash(position: int, node: int) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        proof = bundle["events"][position]["proof"]
        proof[node] = flip_hex(proof[node])

    return mutate


def edit_head(field: str) -> Mutation:
    def mutate(bundle: Bundle) -> None:
        bundle["head"][field] = flip_hex(bundle["head"][field])

    return mutate


class TestVerifyProofBundle:
    def test_valid_bundle_verifies(self, bundle: Bundle, key: SigningKey) -> None:
        verify_proof_bundle(bundle)
        verify_proof_bundle(bundle, trusted_public_key=key.public_key_bytes())

    def test_valid_bundle_verifies_after_a_json_round_trip(
        self, bundle: Bundle, key: SigningKey
    ) -> None:
        text = json.dumps(bundle, indent=2, ensure_ascii=True)
        verify_proof_bundle(json.loads(text), trusted_public_key=key.public_key_bytes())

    def test_single_event_log(self, key: SigningKey) -> None:
        verify_proof_bundle(build_bundle(key, EVENTS[:1], [0]))

    @pytest.mark.parametrize(
        ("mutate", "error", "message"),
        [
            pytest.param(
                set_event_text(1, edited_event(1), rehash=False),
                ProofError,
                "event 5: leaf hash does not match the event text",
                id="event-text-edited",
            ),
            pytest.param(
                set_event_text(1, edited_event(1), rehash=True),
                ProofError,
                "event 5: calculated root does not match",
                id="event-text-and-leaf-hash-edited",
            ),
            pytest.param(
                set_event_text(0, spaced_event(0), rehash=True),
                ProofError,
                "event 0: event text is not canonical JSON",
                id="event-text-not-canonical",
            ),
            pytest.param(
                set_event_text(2, '{"action":"ingest","action":"delete"}', rehash=True),
                ProofError,
                "event 10: event text is not canonical JSON",
                id="event-text-duplicate-key",
            ),
            pytest.param(
                edit_proof_hash(1, 0),
                ProofError,
                "event 5: calculated root does not match",
                id="proof-hash-edited",
            ),
            pytest.param(
                edit_proof_hash(2, -1),
                ProofError,
                "event 10: calculated root does not match",
                id="last-proof-hash-edited",
            ),
            pytest.param(
                lambda bundle: bundle["events"][1]["proof"].pop(),
                ProofError,
                "event 5: inclusion proof has wrong length: expected 4, got 3",
                id="proof-hash-dropped",
            ),
            pytest.param(
                set_field("events.1.index", 4),
                ProofError,
                "event 4: calculated root does not match",
                id="index-changed",
            ),
            pytest.param(
                set_field("events.2.index", 11),
                ProofError,
                "event 11: leaf index is outside the tree",
                id="index-beyond-head",
            ),
            pytest.param(
                edit_head("root"), SignatureError, "does not verify", id="head-root-edited"
            ),
            pytest.param(
                set_field("head.size", 12), SignatureError, "does not verify", id="head-size-edited"
            ),
            pytest.param(
                edit_head("signature"),
                SignatureError,
                "does not verify",
                id="head-signature-edited",
            ),
            pytest.param(
                set_field("head.time", "2026-11-23T17:12:01.123456Z"),
                SignatureError,
                "does not verify",
                id="head-time-edited",
            ),
            pytest.param(
                set_event_text(0, "{not json", rehash=True),
                InvalidInput,
                "event 0: event text is not JSON",
                id="event-text-not-json",
            ),
            pytest.param(
                set_event_text(0, '{"weight":1.5}', rehash=True),
                InvalidInput,
                "event 0: canonical JSON holds no floats",
                id="event-text-with-float",
            ),
            pytest.param(
                set_event_text(0, '"\\ud800"', rehash=False),
                InvalidInput,
                "event 0: event text holds text with no UTF-8 form",
                id="event-text-lone-surrogate",
            ),
        ],
    )
    def test_tampering_is_caught(
        self, bundle: Bundle, mutate: Mutation, error: type[SvidokError], message: str
    ) -> None:
        mutate(bundle)
        with pytest.raises(error, match=message):
            verify_proof_bundle(bundle)

    def test_proof_error_records_the_event_index(self, bundle: Bundle) -> None:
        set_field("events.2.index", 11)(bundle)
        with pytest.raises(ProofError) as caught:
            verify_proof_bundle(bundle)
        assert caught.value.extra["index"] == 11

    def test_wrong_trusted_key_fails(self, bundle: Bundle, other_key: SigningKey) -> None:
        with pytest.raises(SignatureError, match="expected the trusted key"):
            verify_proof_bundle(bundle, trusted_public_key=other_key.public_key_bytes())

    def test_bundle_re_signed_by_another_key_needs_the_trusted_key_to_fail(
        self, key: SigningKey, other_key: SigningKey
    ) -> None:
        # A forger can make a self-consistent bundle; only the trusted key,
        # obtained out of band, tells it apart.
        forged = build_bundle(other_key, [*EVENTS[:5], {"action": "forged"}], [5])
        verify_proof_bundle(forged)
        with pytest.raises(SignatureError, match="expected the trusted key"):
            verify_proof_bundle(forged, trusted_public_key=key.public_key_bytes())

    def test_bundle_claiming_the_trusted_key_with_a_foreign_head_fails(
        self, bundle: Bundle, key: SigningKey, other_key: SigningKey
    ) -> None:
        foreign = build_bundle(other_key, EVENTS, PROVEN)
        bundle["head"] = foreign["head"]
        with pytest.raises(
            SignatureError,
            match=f"tree head was signed by key {other_key.key_id}, expected {key.key_id}",
        ):
            verify_proof_bundle(bundle, trusted_public_key=key.public_key_bytes())

    def test_malformed_trusted_key_is_invalid_input(self, bundle: Bundle) -> None:
        with pytest.raises(InvalidInput, match="32 bytes, got 16"):
            verify_proof_bundle(bundle, trusted_public_key=b"\x00" * 16)

    @pytest.mark.parametrize(
        ("mutate", "field"),
        [
            pytest.param(delete_field("version"), "version", id="no-version"),
            pytest.param(set_field("version", 2), "version", id="version-2"),
            pytest.param(set_field("version", True), "version", id="version-bool"),
            pytest.param(set_field("public_key", "00" * 31), "public_key", id="short-key"),
            pytest.param(set_field("public_key", None), "public_key", id="null-key"),
            pytest.param(set_field("head", []), "head", id="head-not-object"),
            pytest.param(delete_field("head.size"), "head.size", id="head-no-size"),
            pytest.param(set_field("head.root", "00"), "head.root", id="head-short-root"),
            pytest.param(set_field("head.extra", 1), "head.extra", id="head-unknown-field"),
            pytest.param(set_field("events", []), "events", id="no-events"),
            pytest.param(set_field("events", {}), "events", id="events-not-list"),
            pytest.param(set_field("events.0", "x"), "events[0]", id="event-not-object"),
            pytest.param(delete_field("events.1.proof"), "events[1].proof", id="no-proof"),
            pytest.param(set_field("events.1.proof", "ab"), "events[1].proof", id="proof-str"),
            pytest.param(
                set_field("events.1.proof.0", "AB" * 32),
                "events[1].proof[0]",
                id="proof-uppercase",
            ),
            pytest.param(
                set_field("events.1.proof.2", "ab" * 31),
                "events[1].proof[2]",
                id="proof-short",
            ),
            pytest.param(set_field("events.2.index", -1), "events[2].index", id="index-negative"),
            pytest.param(set_field("events.2.index", True), "events[2].index", id="index-bool"),
            pytest.param(set_field("events.2.index", "10"), "events[2].index", id="index-str"),
            pytest.param(set_field("events.2.event", {}), "events[2].event", id="event-object"),
            pytest.param(
                set_field("events.0.leaf_hash", "00"), "events[0].leaf_hash", id="short-leaf"
            ),
            pytest.param(
                set_field("events.0.extra", 1), "events[0].extra", id="event-unknown-field"
            ),
            pytest.param(set_field("extra", 1), "extra", id="bundle-unknown-field"),
            pytest.param(set_field("events.2.index", 5), "events", id="duplicate-index"),
        ],
    )
    def test_bad_shape_names_the_field(self, bundle: Bundle, mutate: Mutation, field: str) -> None:
        mutate(bundle)
        with pytest.raises(InvalidInput) as caught:
            verify_proof_bundle(bundle)
        assert caught.value.extra["field"] == field
        assert field.split(".")[-1] in caught.value.message

    def test_bundle_must_be_an_object(self) -> None:
        with pytest.raises(InvalidInput, match="proof bundle must be a JSON object, got list"):
            verify_proof_bundle([])

    def test_verification_does_not_modify_the_bundle(self, bundle: Bundle) -> None:
        before = copy.deepcopy(bundle)
        verify_proof_bundle(bundle)
        assert bundle == before
