"""``searchkit keys``: the keys that may write articles over HTTP, created, listed and revoked."""

from __future__ import annotations

from pathlib import Path

import click

from searchkit.cli.commandline import errors
from searchkit.cli.options import index_option, json_option
from searchkit.cli.terminal import escaped, json_text
from searchkit.webapp import keys as keyring


@click.group("keys")
def keys_group() -> None:
    """Keys for writing articles over HTTP (PUT /api/articles/ID); see docs/serving.md.

    Without a write key the server takes no articles. A key is printed once, when it is created; only its
    hash is kept, in keys.sqlite in the index folder.
    """


@keys_group.command("create")
@index_option
@click.option("--name", required=True, help="Who uses the key (a CMS, a script): how list and revoke name it.")
@click.option(
    "--scope", type=click.Choice(keyring.SCOPES), default="write", show_default=True, help="What the key may do."
)
def keys_create_command(index_dir: Path, name: str, scope: str) -> None:
    """Create a key and print it, once: keep it where the client can read it."""
    with errors():
        key, text = keyring.create(index_dir, name, scope)
    click.echo(text)
    click.echo(escaped(f"created {scope} key {key.id} named {name!r}: it is not shown again"), err=True)


@keys_group.command("list")
@index_option
@json_option
def keys_list_command(index_dir: Path, as_json: bool) -> None:
    """List the keys: id, name, scope, when created and revoked (never the key)."""
    with errors():
        found = keyring.list_keys(index_dir)
    if as_json:
        click.echo(json_text({"keys": [key.to_dict() for key in found]}))
        return
    for key in found:
        revoked = f"  revoked {key.revoked}" if key.revoked else ""
        click.echo(escaped(f"{key.id}  {key.scope:<6}  {key.created}  {key.name}{revoked}"))


@keys_group.command("revoke")
@index_option
@click.argument("name")
def keys_revoke_command(index_dir: Path, name: str) -> None:
    """Revoke the key NAME (or its id): requests carrying it are refused from now on."""
    with errors():
        key = keyring.revoke(index_dir, name)
    click.echo(escaped(f"revoked key {key.id} named {key.name!r}"))
