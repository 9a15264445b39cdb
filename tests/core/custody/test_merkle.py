"""Tests for the RFC 6962 Merkle tree: published vectors, known answers and properties.

Proof builders are checked against a naive transcription of the RFC's
recursive definitions (``_Reference``), so the fast code is never only tested
against itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.core.custody import merkle
from svidok.core.custody.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    inclusion_proofs,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from svidok.core.errors import InvalidInput, ProofError

REPO = Path(__file__).resolve().parents[3]

# The reference tree of RFC 6962 test suites (CT, transparency-dev/merkle) and
# its root at each size 1..8.
REFERENCE_LEAVES = [
    bytes.fromhex(text)
    for text in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
REFERENCE_ROOTS = [
    bytes.fromhex(text)
    for text in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
REFERENCE_LEAF_HASHES = [hash_leaf(leaf) for leaf in REFERENCE_LEAVES]

# Hypothesis budgets, chosen to keep the whole module to a few seconds.
FEW = settings(max_examples=40, deadline=None)
SOME = settings(max_examples=80, deadline=None)

tree_sizes = st.integers(min_value=1, max_value=300)
salts = st.binary(max_size=8)


def distinct_leaf_hashes(size: int, salt: bytes = b"") -> list[bytes]:
    """Leaf hashes that are all different, so no two paths can hash alike."""
    return [hash_leaf(salt + index.to_bytes(4, "big")) for index in range(size)]


def flip_bit(value: bytes, bit: int) -> bytes:
    """``value`` with one bit (taken modulo its length) inverted."""
    bit %= 8 * len(value)
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


class _Reference:
    """RFC 6962 §2.1 MTH, PATH and PROOF, transcribed literally (slow but obvious)."""

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.leaf_hashes = leaf_hashes
        self._memo: dict[tuple[int, int], bytes] = {}

    @staticmethod
    def split(n: int) -> int:
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def mth(self, begin: int, end: int) -> bytes:
        if (begin, end) not in self._memo:
            n = end - begin
            if n == 0:
                value = hashlib.sha256(b"").digest()
            elif n == 1:
                value = self.leaf_hashes[begin]
            else:
                k = self.split(n)
                value = hash_children(self.mth(begin, begin + k), self.mth(begin + k, end))
            self._memo[(begin, end)] = value
        return self._memo[(begin, end)]

    def path(self, m: int, begin: int, end: int) -> list[bytes]:
        n = end - begin
        if n == 1:
            return []
        k = self.split(n)
        if m < k:
            return self.path(m, begin, begin + k) + [self.mth(begin + k, end)]
        return self.path(m - k, begin + k, end) + [self.mth(begin, begin + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, begin: int, end: int, complete: bool) -> list[bytes]:
        n = end - begin
        if m == n:
            return [] if complete else [self.mth(begin, end)]
        k = self.split(n)
        if m <= k:
            return self.subproof(m, begin, begin + k, complete) + [self.mth(begin + k, end)]
        return self.subproof(m - k, begin + k, end, False) + [self.mth(begin, begin + k)]


def path_shape(index: int, size: int) -> list[bool]:
    """For each level of leaf ``index``'s path, bottom up: is its sibling on the right?"""
    shape: list[bool] = []
    begin, end = 0, size
    while end - begin > 1:
        split = begin + _Reference.split(end - begin)
        shape.append(index < split)
        if index < split:
            end = split
        else:
            begin = split
    return shape[::-1]


# --------------------------------------------------------------------------
# Published vectors


def shared_data() -> Path:
    return Path(os.environ.get("SVIDOK_SHARED_DATA", REPO.parent / "shared" / "data"))


def vector_params(
    kind: str, keep: Callable[[dict[str, Any]], bool] = lambda vector: True
) -> list[Any]:
    """One pytest param per vector file of ``kind`` that ``keep`` accepts.

    If there are no vectors, one skipped param that says why.
    """
    root = shared_data() / "rfc6962" / "testdata" / kind
    files = sorted(root.rglob("*.json")) if root.is_dir() else []
    files = [path for path in files if keep(load_vector(path))]
    if not files:
        reason = f"no RFC 6962 {kind} vectors under {root}; set SVIDOK_SHARED_DATA"
        return [pytest.param(None, id="missing", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(path, id=path.relative_to(root).as_posix()) for path in files]


def load_vector(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    # Hashes are base64; a Go nil proof is written as null.
    data["proof"] = [base64.b64decode(node) for node in data["proof"] or []]
    for field in ("root", "leafHash", "root1", "root2"):
        if field in data:
            data[field] = base64.b64decode(data[field])
    return data


def in_reference_tree(size_field: str, root_field: str) -> Callable[[dict[str, Any]], bool]:
    """Accept the valid vectors whose tree is (a prefix of) the reference tree."""

    def keep(vector: dict[str, Any]) -> bool:
        size = vector[size_field]
        return (
            not vector["wantErr"]
            and 0 < size <= len(REFERENCE_ROOTS)
            and vector[root_field] == REFERENCE_ROOTS[size - 1]
        )

    return keep


def expect(want_error: bool, check: Callable[[], None]) -> None:
    if want_error:
        with pytest.raises(ProofError):
            check()
    else:
        check()


# --------------------------------------------------------------------------


class TestHashing:
    def test_leaf_hash_is_domain_separated_sha256(self) -> None:
        assert hash_leaf(b"") == bytes.fromhex(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        )
        assert hash_leaf(b"abc") == hashlib.sha256(b"\x00abc").digest()

    def test_children_hash_is_domain_separated_sha256(self) -> None:
        left, right = b"L" * 32, b"R" * 32
        assert hash_children(left, right) == hashlib.sha256(b"\x01" + left + right).digest()

    def test_empty_root_is_sha256_of_nothing(self) -> None:
        assert EMPTY_ROOT.hex() == (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )


class TestRootFromLeafHashes:
    def test_reference_tree_root(self) -> None:
        assert root_from_leaf_hashes(REFERENCE_LEAF_HASHES).hex() == (
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        )

    @pytest.mark.parametrize("size", range(1, 9))
    def test_reference_tree_root_at_each_size(self, size: int) -> None:
        assert root_from_leaf_hashes(REFERENCE_LEAF_HASHES[:size]) == REFERENCE_ROOTS[size - 1]

    def test_empty_tree(self) -> None:
        assert root_from_leaf_hashes([]) == EMPTY_ROOT

    @SOME
    @given(st.lists(st.binary(max_size=3), max_size=300))
    def test_matches_rfc_definition(self, leaves: list[bytes]) -> None:
        leaf_hashes = [hash_leaf(leaf) for leaf in leaves]
        expected = _Reference(leaf_hashes).mth(0, len(leaf_hashes))
        assert root_from_leaf_hashes(leaf_hashes) == expected


class TestCompactRange:
    def test_starts_empty(self) -> None:
        tree = CompactRange()
        assert tree.size == 0
        assert tree.root() == EMPTY_ROOT
        assert tree.to_state() == []

    @SOME
    @given(tree_sizes, salts)
    def test_root_matches_rfc_definition_at_every_size(self, size: int, salt: bytes) -> None:
        leaf_hashes = distinct_leaf_hashes(size, salt)
        reference = _Reference(leaf_hashes)
        tree = CompactRange()
        for count, leaf_hash in enumerate(leaf_hashes, start=1):
            tree.append(leaf_hash)
            assert tree.size == count
            assert tree.root() == reference.mth(0, count)

    @SOME
    @given(tree_sizes, st.integers(min_value=0, max_value=40), salts)
    def test_state_round_trip_then_keep_growing(self, size: int, more: int, salt: bytes) -> None:
        leaf_hashes = distinct_leaf_hashes(size + more, salt)
        tree = CompactRange()
        for leaf_hash in leaf_hashes[:size]:
            tree.append(leaf_hash)
        state = tree.to_state()
        assert len(state) == size.bit_count()
        restored = CompactRange.from_state(size, json.loads(json.dumps(state)))
        assert (restored.size, restored.root(), restored.to_state()) == (
            size,
            tree.root(),
            state,
        )
        for leaf_hash in leaf_hashes[size:]:
            restored.append(leaf_hash)
        assert restored.root() == root_from_leaf_hashes(leaf_hashes)

    def test_from_state_refuses_wrong_number_of_hashes(self) -> None:
        with pytest.raises(InvalidInput, match="holds 2 hashes, found 1") as caught:
            CompactRange.from_state(5, ["00" * 32])
        assert caught.value.extra == {"expected": 2, "found": 1}

    @pytest.mark.parametrize(
        ("hashes", "message"),
        [
            (["00" * 31], "must be 32 bytes, found 31"),
            (["00" * 33], "must be 32 bytes, found 33"),
            (["zz" * 32], "not hexadecimal"),
        ],
    )
    def test_from_state_refuses_bad_hashes(self, hashes: list[str], message: str) -> None:
        with pytest.raises(InvalidInput, match=message):
            CompactRange.from_state(1, hashes)

    def test_from_state_refuses_negative_size(self) -> None:
        with pytest.raises(InvalidInput, match="must not be negative, got -1"):
            CompactRange.from_state(-1, [])

    def test_append_refuses_leaf_hash_of_wrong_length(self) -> None:
        tree = CompactRange()
        with pytest.raises(InvalidInput, match="32 bytes, got 31"):
            tree.append(b"\x00" * 31)
        assert tree.size == 0


class TestInclusionProof:
    @SOME
    @given(tree_sizes, salts, st.data())
    def test_matches_rfc_path(self, size: int, salt: bytes, data: st.DataObject) -> None:
        leaf_hashes = distinct_leaf_hashes(size, salt)
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        expected = _Reference(leaf_hashes).path(index, 0, size)
        assert inclusion_proof(leaf_hashes, index, size) == expected

    @FEW
    @given(tree_sizes, st.integers(min_value=0, max_value=20), salts)
    def test_batch_matches_single_proofs_for_older_sizes(
        self, size: int, extra: int, salt: bytes
    ) -> None:
        leaf_hashes = distinct_leaf_hashes(size + extra, salt)
        reference = _Reference(leaf_hashes)
        proofs = inclusion_proofs(leaf_hashes, range(size), size)
        assert sorted(proofs) == list(range(size))
        for index, proof in proofs.items():
            assert proof == reference.path(index, 0, size)

    def test_batch_hashes_each_node_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        calls: list[int] = []

        def counting_sha256(data: bytes) -> Any:
            calls.append(1)
            return hashlib.sha256(data)

        leaf_hashes = distinct_leaf_hashes(300)
        monkeypatch.setattr(merkle, "_sha256", counting_sha256)
        inclusion_proofs(leaf_hashes, range(300), 300)
        # A tree of n leaves has n - 1 interior nodes.
        assert len(calls) <= 299

    @pytest.mark.parametrize(
        "path", vector_params("inclusion", in_reference_tree("treeSize", "root"))
    )
    def test_reproduces_published_happy_paths(self, path: Path | None) -> None:
        assert path is not None
        vector = load_vector(path)
        size, index = vector["treeSize"], vector["leafIdx"]
        assert inclusion_proof(REFERENCE_LEAF_HASHES, index, size) == vector["proof"]

    @pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0), (0, 9)])
    def test_refuses_index_or_size_out_of_range(self, index: int, size: int) -> None:
        with pytest.raises(InvalidInput):
            inclusion_proof(REFERENCE_LEAF_HASHES, index, size)

    def test_refuses_leaf_hash_of_wrong_length(self) -> None:
        with pytest.raises(InvalidInput, match="32 bytes, got 3 at index 1"):
            inclusion_proof([b"\x00" * 32, b"abc"], 0, 2)


class TestConsistencyProof:
    def test_matches_rfc_proof_for_all_small_sizes(self) -> None:
        leaf_hashes = distinct_leaf_hashes(48)
        reference = _Reference(leaf_hashes)
        for new_size in range(1, 49):
            for old_size in range(1, new_size + 1):
                expected = reference.proof(old_size, new_size)
                assert consistency_proof(leaf_hashes, old_size, new_size) == expected

    @pytest.mark.parametrize(
        "path", vector_params("consistency", in_reference_tree("size2", "root2"))
    )
    def test_reproduces_published_happy_paths(self, path: Path | None) -> None:
        assert path is not None
        vector = load_vector(path)
        old, new = vector["size1"], vector["size2"]
        assert consistency_proof(REFERENCE_LEAF_HASHES, old, new) == vector["proof"]

    @pytest.mark.parametrize(("old", "new"), [(0, 3), (0, 0), (4, 3), (1, 9)])
    def test_refuses_bad_sizes(self, old: int, new: int) -> None:
        with pytest.raises(InvalidInput):
            consistency_proof(REFERENCE_LEAF_HASHES, old, new)


class TestVerifyInclusion:
    @pytest.mark.parametrize("path", vector_params("inclusion"))
    def test_published_vector(self, path: Path | None) -> None:
        assert path is not None
        vector = load_vector(path)
        expect(
            vector["wantErr"],
            lambda: verify_inclusion(
                leaf_hash=vector["leafHash"],
                index=vector["leafIdx"],
                size=vector["treeSize"],
                proof=vector["proof"],
                root=vector["root"],
            ),
        )

    def test_every_proof_in_small_trees_verifies(self) -> None:
        leaf_hashes = distinct_leaf_hashes(64)
        for size in range(1, 65):
            root = root_from_leaf_hashes(leaf_hashes[:size])
            for index, proof in inclusion_proofs(leaf_hashes, range(size), size).items():
                verify_inclusion(
                    leaf_hash=leaf_hashes[index], index=index, size=size, proof=proof, root=root
                )

    @FEW
    @given(tree_sizes, salts)
    def test_every_proof_verifies(self, size: int, salt: bytes) -> None:
        leaf_hashes = distinct_leaf_hashes(size, salt)
        root = root_from_leaf_hashes(leaf_hashes)
        for index, proof in inclusion_proofs(leaf_hashes, range(size), size).items():
            verify_inclusion(
                leaf_hash=leaf_hashes[index], index=index, size=size, proof=proof, root=root
            )

    @SOME
    @given(tree_sizes, salts, st.data())
    def test_any_flipped_bit_fails(self, size: int, salt: bytes, data: st.DataObject) -> None:
        leaf_hashes = distinct_leaf_hashes(size, salt)
        index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
        proof = inclusion_proof(leaf_hashes, index, size)
        case: dict[str, Any] = {
            "leaf_hash": leaf_hashes[index],
            "index": index,
            "size": size,
            "proof": proof,
            "root": root_from_leaf_hashes(leaf_hashes),
        }
        targets = ["leaf_hash", "root"] + [f"proof{i}" for i in range(len(proof))]
        target = data.draw(st.sampled_from(targets), label="target")
        bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
        if target.startswith("proof"):
            position = int(target[len("proof") :])
            case["proof"] = [
                flip_bit(node, bit) if i == position else node for i, node in enumerate(proof)
            ]
        else:
            case[target] = flip_bit(case[target], bit)
        with pytest.raises(ProofError):
            verify_inclusion(**case)

    @SOME
    @given(tree_sizes, salts, st.data())
    def test_other_index_or_size_fails_unless_path_is_identical(
        self, size: int, salt: bytes, data: st.DataObject
    ) -> None:
        # An RFC 6962 proof does not commit to the tree size (the signed head
        # binds size to root): a size under which the leaf's path has the very
        # same shape hashes the same way. Any other change must fail.
        leaf_hashes = distinct_leaf_hashes(size, salt)
        index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
        proof = inclusion_proof(leaf_hashes, index, size)
        root = root_from_leaf_hashes(leaf_hashes)
        other_index = data.draw(st.integers(min_value=-2, max_value=size + 2), label="new index")
        other_size = data.draw(st.integers(min_value=0, max_value=2 * size + 2), label="new size")
        if (other_index, other_size) == (index, size):
            return
        indistinguishable = 0 <= other_index < other_size and path_shape(
            other_index, other_size
        ) == path_shape(index, size)

        def check() -> None:
            verify_inclusion(
                leaf_hash=leaf_hashes[index],
                index=other_index,
                size=other_size,
                proof=proof,
                root=root,
            )

        expect(not indistinguishable, check)
        if other_size == size:
            assert not indistinguishable, "a path identifies its leaf within one tree"

    def test_error_says_what_was_expected(self) -> None:
        proof = inclusion_proof(REFERENCE_LEAF_HASHES, 2, 8)
        with pytest.raises(ProofError, match="wrong length: expected 3, got 4") as caught:
            verify_inclusion(
                leaf_hash=REFERENCE_LEAF_HASHES[2],
                index=2,
                size=8,
                proof=[*proof, proof[0]],
                root=REFERENCE_ROOTS[7],
            )
        assert caught.value.extra == {"expected": 3, "found": 4}
        wrong_root = b"\x00" * 32
        with pytest.raises(
            ProofError,
            match=f"calculated root does not match: expected {wrong_root.hex()},"
            f" got {REFERENCE_ROOTS[7].hex()}",
        ):
            verify_inclusion(
                leaf_hash=REFERENCE_LEAF_HASHES[2], index=2, size=8, proof=proof, root=wrong_root
            )

    def test_refuses_proof_hash_of_wrong_length(self) -> None:
        proof = inclusion_proof(REFERENCE_LEAF_HASHES, 0, 2)
        # Same bytes, split differently between leaf and sibling.
        with pytest.raises(
            ProofError, match="leaf hash has wrong length: expected 32 bytes, got 31"
        ):
            verify_inclusion(
                leaf_hash=REFERENCE_LEAF_HASHES[0][:-1],
                index=0,
                size=2,
                proof=[REFERENCE_LEAF_HASHES[0][-1:] + proof[0]],
                root=REFERENCE_ROOTS[1],
            )
        with pytest.raises(
            ProofError, match="proof hash 0 has wrong length: expected 32 bytes, got 33"
        ):
            verify_inclusion(
                leaf_hash=REFERENCE_LEAF_HASHES[0],
                index=0,
                size=2,
                proof=[proof[0] + b"\x00"],
                root=REFERENCE_ROOTS[1],
            )


class TestVerifyConsistency:
    @pytest.mark.parametrize("path", vector_params("consistency"))
    def test_published_vector(self, path: Path | None) -> None:
        assert path is not None
        vector = load_vector(path)
        expect(
            vector["wantErr"],
            lambda: verify_consistency(
                old_size=vector["size1"],
                new_size=vector["size2"],
                old_root=vector["root1"],
                new_root=vector["root2"],
                proof=vector["proof"],
            ),
        )

    def test_all_proofs_between_small_sizes_verify(self) -> None:
        leaf_hashes = distinct_leaf_hashes(64)
        roots = [root_from_leaf_hashes(leaf_hashes[:size]) for size in range(65)]
        for new_size in range(1, 65):
            for old_size in range(1, new_size + 1):
                verify_consistency(
                    old_size=old_size,
                    new_size=new_size,
                    old_root=roots[old_size],
                    new_root=roots[new_size],
                    proof=consistency_proof(leaf_hashes, old_size, new_size),
                )

    @FEW
    @given(tree_sizes, salts, st.data())
    def test_random_proofs_verify(self, size: int, salt: bytes, data: st.DataObject) -> None:
        leaf_hashes = distinct_leaf_hashes(size, salt)
        old_size = data.draw(st.integers(min_value=1, max_value=size), label="old size")
        verify_consistency(
            old_size=old_size,
            new_size=size,
            old_root=root_from_leaf_hashes(leaf_hashes[:old_size]),
            new_root=root_from_leaf_hashes(leaf_hashes),
            proof=consistency_proof(leaf_hashes, old_size, size),
        )

    @SOME
    @given(st.integers(min_value=2, max_value=300), salts, st.data())
    def test_tampering_fails(self, size: int, salt: bytes, data: st.DataObject) -> None:
        leaf_hashes = distinct_leaf_hashes(size, salt)
        old_size = data.draw(st.integers(min_value=1, max_value=size - 1), label="old size")
        proof = consistency_proof(leaf_hashes, old_size, size)
        case: dict[str, Any] = {
            "old_size": old_size,
            "new_size": size,
            "old_root": root_from_leaf_hashes(leaf_hashes[:old_size]),
            "new_root": root_from_leaf_hashes(leaf_hashes),
            "proof": proof,
        }
        tampering = data.draw(
            st.sampled_from(
                ["old_root", "new_root", "proof", "truncate", "extend", "swap", "old_size_0"]
            ),
            label="tampering",
        )
        bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
        if tampering in ("old_root", "new_root"):
            case[tampering] = flip_bit(case[tampering], bit)
        elif tampering == "proof":
            position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
            case["proof"] = [
                flip_bit(node, bit) if i == position else node for i, node in enumerate(proof)
            ]
        elif tampering == "truncate":
            case["proof"] = proof[:-1]
        elif tampering == "extend":
            case["proof"] = [*proof, case["new_root"]]
        elif tampering == "swap":
            case["old_root"], case["new_root"] = case["new_root"], case["old_root"]
        else:
            case["old_size"] = 0
        with pytest.raises(ProofError):
            verify_consistency(**case)

    @pytest.mark.parametrize(
        ("old_size", "new_size", "message"),
        [
            (0, 0, "from the empty tree proves nothing"),
            (0, 5, "from the empty tree proves nothing"),
            (5, 4, "0 <= old size <= new size, got 5 and 4"),
            (-1, 4, "0 <= old size <= new size, got -1 and 4"),
        ],
    )
    def test_refuses_impossible_sizes(self, old_size: int, new_size: int, message: str) -> None:
        with pytest.raises(ProofError, match=message):
            verify_consistency(
                old_size=old_size,
                new_size=new_size,
                old_root=EMPTY_ROOT,
                new_root=EMPTY_ROOT,
                proof=[],
            )

    def test_error_names_the_mismatching_root(self) -> None:
        proof = consistency_proof(REFERENCE_LEAF_HASHES, 6, 8)
        with pytest.raises(ProofError, match="calculated old root does not match"):
            verify_consistency(
                old_size=6,
                new_size=8,
                old_root=REFERENCE_ROOTS[4],
                new_root=REFERENCE_ROOTS[7],
                proof=proof,
            )
        with pytest.raises(ProofError, match="calculated new root does not match"):
            verify_consistency(
                old_size=6,
                new_size=8,
                old_root=REFERENCE_ROOTS[5],
                new_root=REFERENCE_ROOTS[6],
                proof=proof,
            )
        with pytest.raises(ProofError, match="trees of equal size 3 must have equal roots"):
            verify_consistency(
                old_size=3,
                new_size=3,
                old_root=REFERENCE_ROOTS[2],
                new_root=REFERENCE_ROOTS[3],
                proof=[],
            )
