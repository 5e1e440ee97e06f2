"""``gongxin tokens issue | list | revoke``: regulator API tokens (only their hashes are stored)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app import store
from blacklist.tokens import TokenError, issue_token, list_tokens, revoke_token


@click.group("tokens")
def tokens_group() -> None:
    """Regulator API tokens: each bound to an agency, the lists it may act on and a region."""


@tokens_group.command("issue")
@click.option("--agency", "agency_id", required=True, help="agency id (created when new), e.g. sz-samr")
@click.option("--name", "agency_name", required=True, help="the agency's name, e.g. 深圳市市场监督管理局")
@click.option("--list", "lists", required=True, multiple=True, help="a list id the token may act on (repeatable)")
@click.option("--region", default="", help="administrative division prefix (2, 4 or 6 digits); none: everywhere")
@click.option("--label", default=None, help="a note saying who holds the token")
@with_appcontext
def issue_command(agency_id: str, agency_name: str, lists: tuple[str, ...], region: str, label: str | None) -> None:
    """Issue a token and print its secret once: only its hash is stored, it cannot be shown again."""
    session = store.session()
    try:
        token, secret = issue_token(session, agency_id, agency_name, lists, region, label)
        session.commit()
    except TokenError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"token {token.id} for {agency_id} ({agency_name}): lists {', '.join(token.lists)}; "
               f"region {token.region_prefix or 'all'}", err=True)
    click.echo(secret)  # alone on stdout, so that a script can capture it
    click.echo("Keep this secret now: it cannot be shown again (only its hash is stored).", err=True)


@tokens_group.command("list")
@with_appcontext
def list_command() -> None:
    """List every token: id, agency, lists, region, label, issued and revoked (never a secret or hash)."""
    for token in list_tokens(store.session()):
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        click.echo(f"{token.id}\t{token.agency_id}\t{','.join(token.lists)}\t{token.region_prefix or '*'}\t"
                   f"{token.label or ''}\tissued {token.created_at:%Y-%m-%d %H:%M}\t{state}")


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Revoke a token at once; requests with it get 401 from then on."""
    session = store.session()
    try:
        token = revoke_token(session, token_id)
        session.commit()
    except TokenError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"token {token.id} ({token.agency_id}) revoked at {token.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
