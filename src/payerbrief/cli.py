"""The `payerbrief` command: thin wrappers over importable functions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from payerbrief.errors import MalformedCodeError, PayerbriefError
from payerbrief.store.warehouse import LoadResult, Warehouse, default_home

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED = 1
EXIT_USAGE = 2


class Failed(click.ClickException):
    """Failed work: the message of a payerbrief error, exit code 1."""

    exit_code = EXIT_FAILED

    def format_message(self) -> str:
        return self.message


class BadUsage(Failed):
    exit_code = EXIT_USAGE


def _fail(error: PayerbriefError) -> Failed:
    if isinstance(error, MalformedCodeError):
        return BadUsage(str(error))
    return Failed(str(error))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PAYERBRIEF_HOME",
    help="Warehouse directory (default: PAYERBRIEF_HOME or the per-user data dir).",
)
@click.option("-v", "--verbose", count=True, help="Say more; twice for debug.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.version_option(package_name="payerbrief")
@click.pass_context
def main(ctx: click.Context, home: Path | None, verbose: int, quiet: bool) -> None:
    """Briefs for billing codes from public payer and Medicare files."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO)[min(verbose, 1)]
    if verbose > 1:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"home": home or default_home(), "quiet": quiet}


def _warehouse(ctx: click.Context) -> Warehouse:
    try:
        return Warehouse(ctx.obj["home"])
    except PayerbriefError as error:
        raise _fail(error) from error


def _say(ctx: click.Context, text: str) -> None:
    if not ctx.obj["quiet"]:
        click.echo(text)


def _load_line(result: LoadResult) -> str:
    e = result.entry
    if result.skipped:
        return f"{e.kind:16} {e.file_name}: already loaded ({e.release}), nothing added"
    line = f"{e.kind:16} {e.file_name}: {e.rows_loaded:,} rows ({e.release})"
    if e.rows_rejected:
        line += f", {e.rows_rejected:,} rejected"
    return line


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("payerbrief-demo"),
    show_default=True,
    help="Where to write the briefs.",
)
@click.pass_context
def demo(ctx: click.Context, out: Path) -> None:
    """Load the bundled real data and write the sample briefs."""
    from payerbrief.demo import run_demo

    with _warehouse(ctx) as warehouse:
        try:
            result = run_demo(warehouse, out, lambda r: _say(ctx, _load_line(r)))
        except PayerbriefError as error:
            raise _fail(error) from error
    _say(ctx, f"\nWarehouse: {warehouse.home}")
    _say(ctx, f"Wrote {len(result.briefs)} briefs (Markdown and JSON) to {out}/briefs")
    _say(ctx, f"Start with {out / 'index.md'}")


@main.command()
@click.argument("source")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, source: str, paths: tuple[Path, ...]) -> None:
    """Load files of one SOURCE kind into the warehouse.

    Kinds: pfs-rvu, gpci, locality-county, hcpcs, nucc, pos, icd10cm (icd10cm
    takes no path: it reads the release the simple-icd-10-cm package ships).
    A file already loaded adds nothing; rejected rows are kept with reasons.
    """
    from payerbrief.ingest import ingest as run_ingest
    from payerbrief.sources.registry import kind_names

    if source not in kind_names():
        raise BadUsage(
            f"unknown source kind {source!r}\nHint: choose one of: "
            + ", ".join(kind_names())
        )
    with _warehouse(ctx) as warehouse:
        try:
            results = run_ingest(warehouse, source, list(paths))
        except PayerbriefError as error:
            raise _fail(error) from error
    rejected = 0
    for result in results:
        _say(ctx, _load_line(result))
        for line, reason in result.rejects[:20]:
            click.echo(f"  line {line}: {reason}", err=True)
        if len(result.rejects) > 20:
            click.echo(f"  ... and {len(result.rejects) - 20} more", err=True)
        rejected += len(result.rejects)
    if rejected:
        raise Failed(
            f"{rejected:,} rows rejected; the other rows are loaded\n"
            "Hint: fix or replace the file and ingest it again"
        )


def _releases(values: tuple[str, ...]) -> dict[str, str]:
    chosen = {}
    for value in values:
        kind, sep, release = value.partition("=")
        if not sep or not kind or not release:
            raise BadUsage(
                f"--release takes KIND=RELEASE, not {value!r}\n"
                "Hint: for example --release pfs-rvu=RVU25A"
            )
        chosen[kind] = release
    return chosen


@main.command()
@click.argument("code")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default="md",
    show_default=True,
    help="Markdown for people, JSON for machines.",
)
@click.option(
    "--release",
    "releases",
    multiple=True,
    metavar="KIND=RELEASE",
    help="Use this release of a source (default: the newest), e.g. pfs-rvu=RVU25A.",
)
@click.pass_context
def brief(ctx: click.Context, code: str, fmt: str, releases: tuple[str, ...]) -> None:
    """Print the brief for one billing CODE."""
    from payerbrief.brief.build import build_brief
    from payerbrief.facts.reference import Reference
    from payerbrief.render import FORMATS

    chosen = _releases(releases)
    with _warehouse(ctx) as warehouse:
        try:
            ref = Reference.load(warehouse, chosen)
            document = build_brief(ref, ref.resolve(code))
        except PayerbriefError as error:
            raise _fail(error) from error
    click.echo(FORMATS[fmt](document), nl=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List the loaded files with their releases, dates and row counts."""
    import json

    with _warehouse(ctx) as warehouse:
        entries = warehouse.entries()
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    if not entries:
        _say(
            ctx,
            "Nothing loaded yet.\nHint: run `payerbrief demo` or `payerbrief ingest`",
        )
        return
    header = f"{'kind':16} {'release':9} {'as of':10} {'rows':>8} {'rejected':>8}  file"
    click.echo(header)
    for e in entries:
        as_of = e.as_of.isoformat() if e.as_of else "-"
        click.echo(
            f"{e.kind:16} {e.release:9} {as_of:10} {e.rows_loaded:>8,} "
            f"{e.rows_rejected:>8,}  {e.file_name} ({e.publisher})"
        )
