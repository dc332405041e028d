"""`layer publish FILE --to NAME` and `layer destinations add|list|test|remove`.

Secrets are never taken from the command line (argv is visible to every user of the machine): they come
from the environment (``LAYER_ACCESS_KEY_ID`` / ``LAYER_SECRET_ACCESS_KEY``, ``LAYER_SERVICE_ACCOUNT_JSON``),
from stdin with ``--secrets-stdin``, from a key file (``--service-account-file``), or from a hidden prompt.
"""

from __future__ import annotations

import enum
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from rich.table import Table

from layer_desktop.cli.common import console, out, progress_bar
from layer_desktop.errors import CredentialsError, InputError
from layer_desktop.remote.storage import (
    HmacKeys,
    KeyFields,
    PublishDb,
    PublishOptions,
    PublishRecord,
    compact_service_account,
    get_destination,
    last_destination,
    list_destinations,
    parse_expiry,
    probe_destination,
    publish,
    remove_destination,
    save_destination,
)
from layer_desktop.remote.storage.credentials import Credentials, uses_service_account
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import DestinationSpec

ENV_KEY_ID = "LAYER_ACCESS_KEY_ID"
ENV_SECRET = "LAYER_SECRET_ACCESS_KEY"
ENV_SERVICE_ACCOUNT = "LAYER_SERVICE_ACCOUNT_JSON"

app = typer.Typer(
    help="Publish destinations (R2, GCS, S3-compatible): add, list, test, remove.", no_args_is_help=True
)


class Kind(enum.StrEnum):
    r2 = "r2"
    gcs = "gcs"
    s3 = "s3"


class GcsAuth(enum.StrEnum):
    service_account = "service_account"
    hmac = "hmac"


_SPEC = TypeAdapter[DestinationSpec](DestinationSpec)


def _spec(fields: dict[str, Any]) -> DestinationSpec:
    try:
        return _SPEC.validate_python({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"The destination cannot be used: {problems}.") from None


def _hmac_keys(from_stdin: bool) -> HmacKeys:
    key_id, secret = os.environ.get(ENV_KEY_ID), os.environ.get(ENV_SECRET)
    if key_id and secret:
        return HmacKeys(key_id, secret)
    if from_stdin:
        lines = sys.stdin.read().splitlines()
        if len(lines) < 2 or not lines[0].strip() or not lines[1].strip():
            raise CredentialsError("stdin must hold the access key id on line 1 and the secret on line 2.")
        return HmacKeys(lines[0].strip(), lines[1].strip())
    key_id = typer.prompt("Access key id", hide_input=True)
    secret = typer.prompt("Secret access key", hide_input=True)
    return HmacKeys(key_id.strip(), secret.strip())


def _service_account(key_file: Path | None, from_stdin: bool) -> Credentials:
    if key_file is not None:
        return compact_service_account(key_file.read_text(encoding="utf-8"))
    if text := os.environ.get(ENV_SERVICE_ACCOUNT):
        return compact_service_account(text)
    if from_stdin:
        return compact_service_account(sys.stdin.read())
    raise CredentialsError(
        "No service-account key given.",
        hint=f"Pass --service-account-file KEY.json, or the JSON in ${ENV_SERVICE_ACCOUNT} or on stdin.",
    )


@app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="A short name, used with `layer publish --to NAME`.")],
    kind: Annotated[Kind, typer.Option("--kind", help="r2, gcs or s3 (any S3-compatible service).")],
    bucket: Annotated[str, typer.Option("--bucket", help="The bucket name.")],
    account_id: Annotated[str | None, typer.Option(help="R2: the Cloudflare account id.")] = None,
    endpoint_url: Annotated[str | None, typer.Option(help="S3-compatible endpoint (or an override).")] = None,
    region: Annotated[str | None, typer.Option(help="S3: the region (default us-east-1).")] = None,
    public_base_url: Annotated[
        str | None, typer.Option(help="Custom domain or r2.dev address; without one links are signed.")
    ] = None,
    key_template: Annotated[str | None, typer.Option(help="Default object key template.")] = None,
    gcs_auth: Annotated[
        GcsAuth, typer.Option(help="GCS: service_account or hmac.")
    ] = GcsAuth.service_account,
    service_account_file: Annotated[
        Path | None, typer.Option(help="GCS: the service account's JSON key file.")
    ] = None,
    secrets_stdin: Annotated[bool, typer.Option("--secrets-stdin", help="Read the keys from stdin.")] = False,
) -> None:
    """Add (or replace) a destination; its keys go to the OS keyring, never to a file or argv."""
    fields: dict[str, Any] = {
        "kind": kind.value, "name": name, "bucket": bucket, "public_base_url": public_base_url,
        "key_template": key_template, "endpoint_url": endpoint_url,
    }  # fmt: skip
    if kind is Kind.r2:
        fields["account_id"] = account_id
    elif kind is Kind.gcs:
        fields["auth"] = gcs_auth.value
    else:
        fields["region"] = region
    dest = _spec(fields)
    creds = (
        _service_account(service_account_file, secrets_stdin)
        if uses_service_account(dest)
        else _hmac_keys(secrets_stdin)
    )
    save_destination(dest, creds, KeyringSecrets())
    out.print(
        f"Saved destination '{dest.name}' ({dest.kind}, bucket {dest.bucket}); keys are in the keyring."
    )
    out.print(f"Check it with: layer destinations test {dest.name}")


@app.command("list")
def list_cmd() -> None:
    """The destinations (the one used last is marked *)."""
    last = last_destination()
    table = Table(title="Publish destinations")
    for column in ("name", "kind", "bucket", "where", "links", "key template"):
        table.add_column(column, overflow="fold")
    for d in list_destinations():
        where = getattr(d, "endpoint_url", None) or (f"account {d.account_id}" if d.kind == "r2" else "")
        links = d.public_base_url or "signed (expiring)"
        table.add_row(
            f"{d.name}{' *' if d.name == last else ''}", d.kind, d.bucket, where, links, d.key_template
        )
    out.print(table)


@app.command("test")
def test_cmd(name: Annotated[str, typer.Argument(help="The destination to test.")]) -> None:
    """Write, read back and delete a small probe object; says exactly which step failed."""
    report = probe_destination(get_destination(name))
    for step in report.steps:
        mark = "[green]ok[/]" if step.ok else ("[dim]skipped[/]" if step.skipped else "[bold red]FAILED[/]")
        out.print(f"{step.name:7} {mark}  {step.detail}")
    if not report.ok:
        raise typer.Exit(1)
    out.print(f"Destination '{name}' works.")


@app.command("remove")
def remove_cmd(name: Annotated[str, typer.Argument(help="The destination to remove.")]) -> None:
    """Remove a destination and its keys from the keyring (published objects stay where they are)."""
    remove_destination(name, KeyringSecrets())
    out.print(f"Removed destination '{name}' and its keys.")


def publish_cmd(
    file: Annotated[Path | None, typer.Argument(help="The file to publish.", show_default=False)] = None,
    to: Annotated[str | None, typer.Option("--to", help="Destination name (default: the last used).")] = None,
    key_template: Annotated[
        str | None, typer.Option(help="e.g. {org}/videos/{project}-{id}.mp4 (default: the destination's).")
    ] = None,
    expires: Annotated[str, typer.Option(help="Signed link lifetime: 30m, 24h, 7d (at most 7d).")] = "24h",
    project: Annotated[str, typer.Option(help="{project} in the key; also filters --list.")] = "",
    persona: Annotated[str, typer.Option(help="{persona} in the key.")] = "",
    org: Annotated[str, typer.Option(help="{org} in the key.")] = "",
    overwrite: Annotated[bool, typer.Option(help="Replace a different file at the same key.")] = False,
    list_records: Annotated[bool, typer.Option("--list", help="List earlier publishes instead.")] = False,
) -> None:
    """Upload FILE to a destination and print its link (Ctrl-C cancels and removes the partial upload)."""
    if list_records:
        _print_records(PublishDb().records(project=project or None))
        return
    if file is None:
        raise InputError("Name the file to publish.", hint="layer publish FILE --to NAME (or --list).")
    name = to or last_destination()
    if name is None:
        raise InputError("No destination given and none added yet.", hint="Add one: layer destinations add")
    options = PublishOptions(
        key_template=key_template,
        fields=KeyFields(org=org, project=project, persona=persona),
        expires=parse_expiry(expires),
        overwrite=overwrite,
    )
    record = _run_with_progress(file, get_destination(name), options)
    console.print(f"Published {file.name} to '{record.destination}' as {record.key} ({record.size:,} bytes)")
    if record.url_expires_at:
        console.print(f"Signed link, valid until {record.url_expires_at:%Y-%m-%d %H:%M} UTC:")
    out.print(record.url, soft_wrap=True)


def _run_with_progress(file: Path, dest: DestinationSpec, options: PublishOptions) -> PublishRecord:
    cancel = threading.Event()
    result: list[PublishRecord] = []
    errors: list[BaseException] = []
    with progress_bar(f"Publishing {file.name} to {dest.name}", None) as (bar, task):

        def progress(done: int, total: int, rate: float, eta: float | None) -> None:
            bar.update(task, completed=done, total=total)

        def work() -> None:
            try:
                result.append(publish(file, dest, options=options, progress=progress, cancel=cancel))
            except BaseException as exc:  # re-raised on the main thread
                errors.append(exc)

        worker = threading.Thread(target=work, name="layer-publish")
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.2)
        except KeyboardInterrupt:
            cancel.set()
            worker.join()
    if errors:
        raise errors[0]
    return result[0]


def _print_records(records: list[PublishRecord]) -> None:
    table = Table(title="Published files (newest first)")
    for column in ("when (UTC)", "destination", "key", "size", "sha256", "link"):
        table.add_column(column, overflow="fold")
    for r in records:
        link = r.url + (f" (until {r.url_expires_at:%Y-%m-%d %H:%M})" if r.url_expires_at else "")
        table.add_row(
            f"{r.published_at:%Y-%m-%d %H:%M}", r.destination, r.key, f"{r.size:,}", r.sha256[:12], link
        )
    out.print(table)


def register(root: typer.Typer) -> None:
    """Add `publish` and `destinations` to the top-level app."""
    root.command("publish")(publish_cmd)
    root.add_typer(app, name="destinations")
