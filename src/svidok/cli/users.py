"""Managing users and their roles in collections."""

from __future__ import annotations

import sys

import click

from svidok.cli.base import actor_option, default_actor, emit_json, json_option, setup_django

ROLES = ["admin", "investigator", "verifier", "analyst", "legal", "viewer"]


@click.group()
def user() -> None:
    """Users, and their roles in collections (each collection is a compartment)."""


@user.command()
@click.argument("username")
@click.option("--email", default="", help="E-mail address.")
@click.option("--admin", is_flag=True, help="Instance administrator (admin in every collection).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@actor_option
@click.pass_context
def add(ctx: click.Context, username: str, email: str, admin: bool, password_stdin: bool,
        actor: str | None) -> None:
    """Create a user; asks for the password unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    setup_django(ctx)
    from svidok.apps.accounts.services import user_create

    user_create(username=username, password=password, email=email, is_admin=admin,
                actor=actor or default_actor())
    click.echo(f"created user {username}")


@user.command("list")
@json_option
@click.pass_context
def list_users(ctx: click.Context, as_json: bool) -> None:
    """List users and their roles."""
    setup_django(ctx)
    from svidok.apps.accounts.selectors import user_list

    users = user_list()
    if as_json:
        emit_json(users)
        return
    for entry in users:
        flags = ("admin " if entry["admin"] else "") + ("" if entry["active"] else "disabled ")
        roles = ", ".join(f"{c}: {r}" for c, r in sorted(entry["roles"].items())) or "no roles"
        click.echo(f"{entry['username']} {flags}— {roles}")


@user.command()
@click.argument("username")
@actor_option
@click.pass_context
def disable(ctx: click.Context, username: str, actor: str | None) -> None:
    """Disable a user (they can no longer log in; nothing is deleted)."""
    setup_django(ctx)
    from svidok.apps.accounts.services import user_disable

    user_disable(username=username, actor=actor or default_actor())
    click.echo(f"disabled {username}")


@user.command()
@click.argument("username")
@click.argument("collection")
@click.argument("role", type=click.Choice(ROLES))
@actor_option
@click.pass_context
def grant(ctx: click.Context, username: str, collection: str, role: str,
          actor: str | None) -> None:
    """Give USERNAME the ROLE in COLLECTION (replacing any role they had there)."""
    setup_django(ctx)
    from svidok.apps.accounts.services import membership_grant

    membership_grant(username=username, collection_name=collection, role=role,
                     actor=actor or default_actor())
    click.echo(f"{username} is {role} in {collection}")


@user.command()
@click.argument("username")
@click.argument("collection")
@actor_option
@click.pass_context
def revoke(ctx: click.Context, username: str, collection: str, actor: str | None) -> None:
    """Remove USERNAME's role in COLLECTION."""
    setup_django(ctx)
    from svidok.apps.accounts.services import membership_revoke

    membership_revoke(username=username, collection_name=collection,
                      actor=actor or default_actor())
    click.echo(f"{username} no longer has a role in {collection}")


@user.group()
def token() -> None:
    """Personal API tokens (sent as 'Authorization: Bearer <token>')."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, to tell tokens apart.")
@json_option
@actor_option
@click.pass_context
def token_create(ctx: click.Context, username: str, name: str, as_json: bool,
                 actor: str | None) -> None:
    """Make a token for USERNAME and print it: it is shown this once, only its hash is kept."""
    setup_django(ctx)
    from svidok.apps.accounts.tokens import api_token_create

    made, raw = api_token_create(username=username, name=name, actor=actor or default_actor())
    if as_json:
        emit_json({"username": username, "name": made.name, "prefix": made.prefix,
                   "token": raw})
        return
    click.echo(raw)


@token.command("list")
@click.argument("username")
@json_option
@click.pass_context
def token_list(ctx: click.Context, username: str, as_json: bool) -> None:
    """List USERNAME's tokens (their prefixes, never the secrets)."""
    setup_django(ctx)
    from svidok.apps.accounts.tokens import api_token_list

    rows = [{"prefix": t.prefix, "name": t.name, "created_at": t.created_at.isoformat(),
             "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
             "revoked": t.revoked_at is not None}
            for t in api_token_list(username=username)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        state = "revoked" if row["revoked"] else f"last used {row['last_used_at'] or 'never'}"
        click.echo(f"{row['prefix']}…  {row['name']}  ({state})")


@token.command("revoke")
@click.argument("username")
@click.argument("prefix")
@actor_option
@click.pass_context
def token_revoke(ctx: click.Context, username: str, prefix: str, actor: str | None) -> None:
    """Revoke USERNAME's token that starts with PREFIX (as `token list` shows it)."""
    setup_django(ctx)
    from svidok.apps.accounts.tokens import api_token_revoke

    api_token_revoke(username=username, prefix=prefix, actor=actor or default_actor())
    click.echo(f"revoked {prefix}…")


COMMANDS = [user]
