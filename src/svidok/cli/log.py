"""Commands on the custody log: proofs, heads, the public key, offline checking."""

from __future__ import annotations

import json
from pathlib import Path

import click

from svidok.cli.base import emit_json, json_option, setup_django


@click.group()
def log() -> None:
    """The tamper-evident custody log (RFC 6962 Merkle tree, signed heads)."""


@log.command()
@click.argument("item")
@json_option
@click.pass_context
def proof(ctx: click.Context, item: str, as_json: bool) -> None:
    """Print ITEM's events with inclusion proofs against the latest signed head.

    ITEM is an item id or a SHA-256 (prefix of at least 8 hex digits). The
    --json output is a proof bundle that `svidok log check` (or the Python
    function svidok.core.custody.proofs.verify_proof_bundle) verifies offline.
    """
    setup_django(ctx)
    from svidok.apps.custody.services import log_item_proof
    from svidok.apps.evidence.selectors import item_resolve
    from svidok.core.custody.proofs import verify_proof_bundle

    resolved = item_resolve(reference=item)
    bundle = log_item_proof(item_id=resolved.id)
    verify_proof_bundle(bundle)  # never hand out a proof that does not verify
    if as_json:
        emit_json(bundle)
        return
    head = bundle["head"]
    click.echo(f"item {resolved.id} sha256:{resolved.sha256}")
    click.echo(f"signed head: size {head['size']}, root {head['root']}, {head['time']}")
    for entry in bundle["events"]:
        event = json.loads(entry["event"])
        click.echo(f"  #{entry['index']} {event['time']} {event['action']} by {event['actor']}"
                   f" — proof of {len(entry['proof'])} hashes: verified")


@log.command()
@click.argument("old_size", type=click.IntRange(min=1))
@click.argument("new_size", type=click.IntRange(min=1), required=False)
@json_option
@click.pass_context
def consistency(ctx: click.Context, old_size: int, new_size: int | None, as_json: bool) -> None:
    """Print a consistency proof from OLD_SIZE to NEW_SIZE (default: the latest signed head)."""
    setup_django(ctx)
    from svidok.apps.custody.services import log_consistency
    from svidok.core.custody import merkle

    result = log_consistency(old_size=old_size, new_size=new_size)
    merkle.verify_consistency(
        old_size=result["old_size"], new_size=result["new_size"],
        old_root=bytes.fromhex(result["old_root"]), new_root=bytes.fromhex(result["new_root"]),
        proof=[bytes.fromhex(h) for h in result["proof"]],
    )
    if as_json:
        emit_json(result)
        return
    click.echo(f"{result['old_size']} → {result['new_size']}: verified")
    click.echo(f"old root {result['old_root']}")
    click.echo(f"new root {result['new_root']}")
    for node in result["proof"]:
        click.echo(f"  {node}")


@log.command()
@json_option
@click.pass_context
def head(ctx: click.Context, as_json: bool) -> None:
    """Print the latest signed tree head (publish it to anchor the log in time)."""
    setup_django(ctx)
    from svidok.apps.custody.services import latest_head, signed_head_of

    signed = signed_head_of(latest_head()).to_json()
    if as_json:
        emit_json(signed)
        return
    for key in ("size", "root", "time", "key_id", "signature"):
        click.echo(f"{key}: {signed[key]}")


@log.command()
@json_option
@click.pass_context
def key(ctx: click.Context, as_json: bool) -> None:
    """Print the custody public key; give it to whoever must check proofs, out of band."""
    setup_django(ctx)
    from svidok.apps.custody.signing_key import instance_signing_key

    signing = instance_signing_key()
    data = {"key_id": signing.key_id, "public_key": signing.public_key_bytes().hex()}
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['key_id']}\n{data['public_key']}")


@log.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", help="The trusted public key (hex), obtained out of band.")
@json_option
def check(bundle: Path, public_key: str | None, as_json: bool) -> None:
    """Verify a proof bundle offline, without any instance.

    Without --public-key the bundle's own key is used, which proves integrity
    but not origin: get the key from its owner to prove both.
    """
    from svidok.core.custody.proofs import verify_proof_bundle
    from svidok.core.errors import InvalidInput

    try:
        data = json.loads(bundle.read_text(encoding="utf-8"))
        trusted = bytes.fromhex(public_key) if public_key else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"expected a JSON proof bundle and a hex key: {exc}") from exc
    verify_proof_bundle(data, trusted_public_key=trusted)
    result = {"ok": True, "events": len(data["events"]), "head_size": data["head"]["size"],
              "key": "trusted" if trusted else "bundle's own"}
    if as_json:
        emit_json(result)
    else:
        click.echo(f"OK: {result['events']} events proven against the signed head of size "
                   f"{result['head_size']} ({result['key']} key)")


COMMANDS = [log]
