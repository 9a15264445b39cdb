"""RFC 6962 Merkle trees: hashing, proofs and their verification.

The tree is exactly the one of RFC 6962 §2.1 (Certificate Transparency), so
that any independent implementation can check Svidok's proofs:

* a leaf hashes as ``SHA-256(0x00 || data)``,
* an interior node as ``SHA-256(0x01 || left || right)``,
* the tree over ``n > 1`` leaves splits at ``k``, the largest power of two
  below ``n``: ``MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))``,
* the empty tree's root is ``SHA-256(b"")``.

Proofs are lists of 32-byte hashes ordered from the leaf (or the old tree)
upwards. Verification follows transparency-dev/merkle ``proof/verify.go`` and
its published test vectors; the verifiers return ``None`` or raise
:class:`~svidok.core.errors.ProofError`.

Throughout, a node is named by the half-open leaf range ``(begin, end)`` that
it covers. A node is *perfect* when it covers a power of two of leaves (all the
nodes that never change as the log grows) and *ragged* otherwise (the
ephemeral nodes along the right edge of a tree whose size is not a power of
two).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from typing import Final, TypeAlias

from svidok.core.errors import InvalidInput, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "inclusion_proofs",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"
# Bound once: these run millions of times in a full audit.
_sha256 = hashlib.sha256

EMPTY_ROOT: Final[bytes] = _sha256(b"").digest()
"""Root of the tree with no leaves: ``SHA-256(b"")``."""

Node: TypeAlias = tuple[int, int]
"""A node, named by the half-open range ``[begin, end)`` of leaves under it."""


def hash_leaf(data: bytes) -> bytes:
    """Hash leaf ``data`` as ``SHA-256(0x00 || data)``."""
    return _sha256(_LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes as ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


class CompactRange:
    """The right edge of a growing tree: enough to extend it and to compute its root.

    It holds one hash per perfect subtree covering ``[0, size)``, one for each
    set bit of ``size`` from the largest subtree (leftmost) to the smallest,
    so memory is O(log n) however long the log grows.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf, given as its leaf hash (amortised O(1) hashing)."""
        if len(leaf_hash) != HASH_SIZE:
            raise InvalidInput(
                f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf_hash)}", index=self._size
            )
        hashes = self._hashes
        node = leaf_hash
        # Like incrementing a binary counter: every trailing one bit of the old
        # size is a perfect subtree of the same height as ``node``, waiting on
        # its left; merge until the carry stops.
        pending = self._size
        while pending & 1:
            node = _sha256(_NODE_PREFIX + hashes.pop() + node).digest()
            pending >>= 1
        hashes.append(node)
        self._size += 1

    def root(self) -> bytes:
        """The RFC 6962 root of the first ``size`` leaves (O(log n) hashing)."""
        hashes = self._hashes
        if not hashes:
            return EMPTY_ROOT
        # The subtrees nest rightwards: fold them from the smallest up.
        node = hashes[-1]
        for position in range(len(hashes) - 2, -1, -1):
            node = _sha256(_NODE_PREFIX + hashes[position] + node).digest()
        return node

    def to_state(self) -> list[str]:
        """The frontier hashes as lowercase hex, largest subtree first, for storage."""
        return [node.hex() for node in self._hashes]

    @classmethod
    def from_state(cls, size: int, hashes: list[str]) -> CompactRange:
        """Rebuild a range saved with :meth:`to_state` for a tree of ``size`` leaves."""
        if size < 0:
            raise InvalidInput(f"a tree size must not be negative, got {size}", size=size)
        expected = size.bit_count()
        if len(hashes) != expected:
            raise InvalidInput(
                f"a compact range of size {size} holds {expected} hashes, found {len(hashes)}",
                expected=expected,
                found=len(hashes),
            )
        restored = cls()
        restored._size = size
        restored._hashes = [_hash_from_hex(text, f"hashes[{i}]") for i, text in enumerate(hashes)]
        return restored

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size})"


def _hash_from_hex(text: str, field: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} is not hexadecimal: {text!r:.80}", field=field) from None
    if len(value) != HASH_SIZE:
        raise InvalidInput(
            f"{field} must be {HASH_SIZE} bytes, found {len(value)}",
            field=field,
            expected=HASH_SIZE,
            found=len(value),
        )
    return value


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 root of a tree with these leaf hashes."""
    tree = CompactRange()
    for leaf_hash in leaf_hashes:
        tree.append(leaf_hash)
    return tree.root()


# --------------------------------------------------------------------------
# Building proofs


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """RFC 6962 §2.1.1 audit path for leaf ``index`` in the tree of the first ``size`` leaves."""
    return inclusion_proofs(leaf_hashes, [index], size)[index]


def inclusion_proofs(
    leaf_hashes: Sequence[bytes], indices: Iterable[int], size: int
) -> dict[int, list[bytes]]:
    """Audit paths for several leaves of one tree, hashing each leaf only once.

    Every hash the proofs need is collected in a single pass over the first
    ``size`` leaves, so the cost is O(size) however many proofs are asked for.
    """
    _check_size(leaf_hashes, size)
    paths: dict[int, list[Node]] = {}
    for index in indices:
        if not 0 <= index < size:
            raise InvalidInput(
                f"leaf index must be below the tree size {size}, got {index}",
                index=index,
                size=size,
            )
        paths[index] = _inclusion_nodes(index, size)
    wanted = {node for path in paths.values() for node in path}
    hashes = _node_hashes(leaf_hashes, size, wanted)
    return {index: [hashes[node] for node in path] for index, path in paths.items()}


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """RFC 6962 §2.1.2 proof that the tree of ``old_size`` leaves is a prefix of ``new_size``.

    ``old_size`` must be positive: nothing can be proven about the empty tree,
    and :func:`verify_consistency` rejects such proofs.
    """
    _check_size(leaf_hashes, new_size)
    if not 0 < old_size <= new_size:
        raise InvalidInput(
            f"a consistency proof needs 0 < old size <= new size {new_size}, got {old_size}",
            old_size=old_size,
            new_size=new_size,
        )
    nodes = _consistency_nodes(old_size, new_size)
    hashes = _node_hashes(leaf_hashes, new_size, set(nodes))
    return [hashes[node] for node in nodes]


def _check_size(leaf_hashes: Sequence[bytes], size: int) -> None:
    if not 0 <= size <= len(leaf_hashes):
        raise InvalidInput(
            f"tree size must be between 0 and the {len(leaf_hashes)} leaves given, got {size}",
            size=size,
            leaves=len(leaf_hashes),
        )


def _largest_power_of_two_below(n: int) -> int:
    """The RFC 6962 split point ``k`` for a (sub)tree of ``n > 1`` leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_nodes(index: int, size: int) -> list[Node]:
    """The nodes of RFC 6962 ``PATH(index, D[0:size])``, from the leaf up."""
    nodes: list[Node] = []
    begin, end = 0, size
    # Walk down from the root, noting the sibling of each subtree we enter.
    while end - begin > 1:
        split = begin + _largest_power_of_two_below(end - begin)
        if index < split:
            nodes.append((split, end))
            end = split
        else:
            nodes.append((begin, split))
            begin = split
    nodes.reverse()
    return nodes


def _consistency_nodes(old_size: int, new_size: int) -> list[Node]:
    """The nodes of RFC 6962 ``PROOF(old_size, D[0:new_size])``, from the bottom up."""
    nodes: list[Node] = []
    begin, end = 0, new_size
    # ``remaining`` is how many of the old leaves lie in [begin, end); the old
    # tree's root is itself a node of the new tree (and can be left out) only
    # while we have never stepped right.
    remaining, old_root_is_node = old_size, True
    while remaining != end - begin:
        split = _largest_power_of_two_below(end - begin)
        if remaining <= split:
            nodes.append((begin + split, end))
            end = begin + split
        else:
            nodes.append((begin, begin + split))
            begin += split
            remaining -= split
            old_root_is_node = False
    if not old_root_is_node:
        nodes.append((begin, end))
    nodes.reverse()
    return nodes


def _node_hashes(
    leaf_hashes: Sequence[bytes], size: int, wanted: Collection[Node]
) -> dict[Node, bytes]:
    """Hash every ``wanted`` node of the tree of ``size`` leaves in one pass.

    Perfect nodes are caught as they complete while the leaves stream through a
    compact range; ragged nodes lie on the right edge and are folds of the
    final frontier, so only the wanted hashes are ever kept.
    """
    perfect: dict[int, set[int]] = {}  # level -> begins of wanted perfect nodes
    ragged: set[int] = set()  # begins of wanted ragged nodes, all ending at ``size``
    for begin, end in wanted:
        width = end - begin
        if width & (width - 1):
            ragged.add(begin)
        else:
            perfect.setdefault(width.bit_length() - 1, set()).add(begin)
    found: dict[Node, bytes] = {}
    frontier: list[bytes] = []
    leaves = perfect.get(0, set())
    for index in range(size):
        node = leaf_hashes[index]
        if len(node) != HASH_SIZE:
            raise InvalidInput(
                f"a leaf hash is {HASH_SIZE} bytes, got {len(node)} at index {index}",
                index=index,
            )
        if index in leaves:
            found[(index, index + 1)] = node
        level, pending = 0, index
        while pending & 1:
            node = _sha256(_NODE_PREFIX + frontier.pop() + node).digest()
            pending >>= 1
            level += 1
            begin = index + 1 - (1 << level)
            if begin in perfect.get(level, ()):
                found[(begin, index + 1)] = node
        frontier.append(node)
    if ragged:
        found.update(_ragged_hashes(frontier, size, ragged))
    return found


def _ragged_hashes(frontier: list[bytes], size: int, wanted: set[int]) -> dict[Node, bytes]:
    """Hashes of the right-edge nodes ``[begin, size)`` for each wanted ``begin``."""
    # The frontier's subtrees, leftmost first, have one width per set bit of size.
    widths = [1 << bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]
    begins: list[int] = []
    offset = 0
    for width in widths:
        begins.append(offset)
        offset += width
    found: dict[Node, bytes] = {}
    node = frontier[-1]
    for position in range(len(frontier) - 2, -1, -1):
        node = hash_children(frontier[position], node)
        if begins[position] in wanted:
            found[(begins[position], size)] = node
    return found


# --------------------------------------------------------------------------
# Verifying proofs


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Raises :class:`ProofError` saying what was expected and what was found.
    Note that, as in RFC 6962, a proof does not by itself commit to ``size``:
    the size is bound to the root by the signed tree head.
    """
    if index < 0 or index >= size:
        raise ProofError(
            f"leaf index is outside the tree: expected an index below {size}, got {index}",
            index=index,
            size=size,
        )
    _check_hash("leaf hash", leaf_hash)
    inner, border = _decompose_inclusion(index, size)
    _check_proof(proof, inner + border, "inclusion")
    node = _chain_inner(leaf_hash, proof[:inner], index)
    node = _chain_border(node, proof[inner:])
    _check_root("calculated root", expected=root, calculated=node)


def verify_consistency(
    *,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``).

    Raises :class:`ProofError`. As in the published vectors, a proof from the
    empty tree (``old_size == 0``) is always rejected, even to the empty tree:
    it could show nothing and is a sign of a caller error.
    """
    if old_size < 0 or new_size < old_size:
        raise ProofError(
            f"tree sizes must satisfy 0 <= old size <= new size, got {old_size} and {new_size}",
            old_size=old_size,
            new_size=new_size,
        )
    if old_size == 0:
        raise ProofError(
            "a consistency proof from the empty tree proves nothing: expected an old size"
            " above 0, got 0",
            new_size=new_size,
        )
    if old_size == new_size:
        _check_proof(proof, 0, "consistency")
        # The roots are compared as opaque bytes, like the reference verifier
        # does (its vectors use roots of any length here).
        if old_root != new_root:
            raise ProofError(
                f"trees of equal size {old_size} must have equal roots:"
                f" old root {old_root.hex()}, new root {new_root.hex()}",
                old_root=old_root.hex(),
                new_root=new_root.hex(),
            )
        return

    # The proof is the tail of the inclusion proof of leaf old_size - 1 in the
    # new tree, starting at the level of the largest perfect subtree that ends
    # at old_size; that subtree's hash (the "seed") comes first in the proof
    # unless it is the whole old tree, whose root the verifier already holds.
    inner, border = _decompose_inclusion(old_size - 1, new_size)
    shift = (old_size & -old_size).bit_length() - 1
    inner -= shift
    seed_in_proof = old_size != 1 << shift
    _check_proof(proof, int(seed_in_proof) + inner + border, "consistency")
    if seed_in_proof:
        seed, path = proof[0], proof[1:]
    else:
        seed, path = old_root, proof
    mask = (old_size - 1) >> shift

    old_node = _chain_inner_left_only(seed, path[:inner], mask)
    old_node = _chain_border(old_node, path[inner:])
    _check_root("calculated old root", expected=old_root, calculated=old_node)
    new_node = _chain_inner(seed, path[:inner], mask)
    new_node = _chain_border(new_node, path[inner:])
    _check_root("calculated new root", expected=new_root, calculated=new_node)


def _decompose_inclusion(index: int, size: int) -> tuple[int, int]:
    """Split an inclusion proof's length into its inner and border parts.

    Inner hashes lie below the point where the paths to ``index`` and to the
    last leaf ``size - 1`` diverge; border hashes are left siblings on the
    right edge above it, one per set bit of ``index`` above that point.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Hash up from ``seed``, the node at position ``index`` on its level."""
    node = seed
    for level, sibling in enumerate(proof):
        if (index >> level) & 1:
            node = hash_children(sibling, node)
        else:
            node = hash_children(node, sibling)
    return node


def _chain_inner_left_only(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Like :func:`_chain_inner` but skip right siblings: the subtree as it was earlier."""
    node = seed
    for level, sibling in enumerate(proof):
        if (index >> level) & 1:
            node = hash_children(sibling, node)
    return node


def _chain_border(seed: bytes, proof: Sequence[bytes]) -> bytes:
    """Hash up the right edge, where every sibling is on the left."""
    node = seed
    for sibling in proof:
        node = hash_children(sibling, node)
    return node


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(
            f"{name} has wrong length: expected {HASH_SIZE} bytes, got {len(value)}",
            expected=HASH_SIZE,
            found=len(value),
        )


def _check_proof(proof: Sequence[bytes], expected: int, kind: str) -> None:
    if len(proof) != expected:
        raise ProofError(
            f"{kind} proof has wrong length: expected {expected}, got {len(proof)}",
            expected=expected,
            found=len(proof),
        )
    # Hashes of another length could shift bytes between left and right
    # children and still hash to the same node; refuse them outright.
    for position, node in enumerate(proof):
        _check_hash(f"{kind} proof hash {position}", node)


def _check_root(name: str, *, expected: bytes, calculated: bytes) -> None:
    if calculated != expected:
        raise ProofError(
            f"{name} does not match: expected {expected.hex()}, got {calculated.hex()}",
            expected=expected.hex(),
            found=calculated.hex(),
        )
