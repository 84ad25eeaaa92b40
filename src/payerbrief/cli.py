"""The `payerbrief` command: thin wrappers over importable functions."""

from __future__ import annotations

import logging
import sys
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
    if not e.complete:
        line += f", incomplete: {e.problem}"
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
    _say(ctx, f"Static site: open {result.site / 'index.html'} in a browser")


class _Bars:
    """One progress bar per file, fed with bytes done of the total."""

    def __init__(self, quiet: bool) -> None:
        # Bars only on a terminal: in a log they would be noise.
        self.quiet = quiet or not sys.stderr.isatty()
        self.label = ""
        self.bar: Any = None
        self.done = 0

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self.quiet:
            return
        if label != self.label:
            self.close()
            self.label, self.done = label, 0
            self.bar = click.progressbar(
                length=total, label=label, file=sys.stderr, show_pos=False
            ).__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _report_rejects(result: LoadResult) -> int:
    unit = "item" if result.entry.kind.startswith("tic") else "line"
    for line, reason in result.rejects[:20]:
        click.echo(f"  {unit} {line}: {reason}", err=True)
    if len(result.rejects) > 20:
        click.echo(f"  ... and {len(result.rejects) - 20} more", err=True)
    return len(result.rejects)


@main.command()
@click.argument("source")
@click.argument("paths", nargs=-1)
@click.option(
    "--plan",
    help="tic: only the table of contents' files for plans whose name or id contains this.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="tic: at most this many in-network files from a table of contents.",
)
@click.option(
    "--fetch-remote",
    is_flag=True,
    help="tic: fetch remote provider-reference files (cached, with size and time limits).",
)
@click.option(
    "--allow-private-network",
    is_flag=True,
    help="tic: allow downloads from loopback and private addresses.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="tic: refuse files that break the CMS schema of their version.",
)
@click.pass_context
def ingest(
    ctx: click.Context,
    source: str,
    paths: tuple[str, ...],
    plan: str | None,
    limit: int | None,
    fetch_remote: bool,
    allow_private_network: bool,
    strict: bool,
) -> None:
    """Load files of one SOURCE kind into the warehouse.

    Kinds: tic (payer files: in-network rates, allowed amounts or a table of
    contents, by path or http(s) URL, JSON, gzip or ZIP), pfs-rvu, gpci,
    locality-county, zip-locality, hcpcs, nucc, pos, icd10cm (no path: the
    release the simple-icd-10-cm package ships), ncci-ptp, mue, mcd-article.
    A file already loaded adds nothing; rejected rows are kept with reasons.
    """
    from payerbrief.ingest import ingest as run_ingest
    from payerbrief.sources.registry import kind_names

    if source not in kind_names():
        raise BadUsage(
            f"unknown source kind {source!r}\nHint: choose one of: "
            + ", ".join(kind_names())
        )
    tic_only = {
        "--plan": plan,
        "--limit": limit,
        "--fetch-remote": fetch_remote,
        "--allow-private-network": allow_private_network,
        "--strict": strict,
    }
    used = [name for name, value in tic_only.items() if value]
    if source != "tic" and used:
        raise BadUsage(
            f"{', '.join(used)} only apply to payer files\nHint: use `ingest tic`"
        )
    if source == "tic":
        _ingest_tic(
            ctx, paths, plan, limit, fetch_remote, allow_private_network, strict
        )
        return
    with _warehouse(ctx) as warehouse:
        try:
            results = run_ingest(warehouse, source, [Path(p) for p in paths])
        except PayerbriefError as error:
            raise _fail(error) from error
    rejected = 0
    for result in results:
        _say(ctx, _load_line(result))
        rejected += _report_rejects(result)
    if rejected:
        raise Failed(
            f"{rejected:,} rows rejected; the other rows are loaded\n"
            "Hint: fix or replace the file and ingest it again"
        )


def _ingest_tic(
    ctx: click.Context,
    paths: tuple[str, ...],
    plan: str | None,
    limit: int | None,
    fetch_remote: bool,
    allow_private_network: bool,
    strict: bool,
) -> None:
    from payerbrief.tic_ingest import TicOptions, ingest_tic

    if not paths:
        raise BadUsage("no file given\nHint: pass payer files or their URLs")
    options = TicOptions(plan, limit, fetch_remote, allow_private_network, strict)
    bars = _Bars(ctx.obj["quiet"])
    with _warehouse(ctx) as warehouse:
        try:
            run = ingest_tic(warehouse, list(paths), options, bars)
        finally:
            bars.close()
    rejected = 0
    for result in run.loads:
        _say(ctx, _load_line(result))
        rejected += _report_rejects(result)
    for error in run.failures:
        click.echo(f"Error: {error}", err=True)
    if run.failures or rejected:
        problems = []
        if rejected:
            problems.append(f"{rejected:,} items rejected")
        if run.failures:
            problems.append(f"{len(run.failures)} files failed")
        raise Failed(
            "; ".join(problems) + "; everything valid is loaded\n"
            "Hint: `payerbrief sources` shows what each file gave"
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
    type=click.Choice(["md", "html", "json", "csv"]),
    default="md",
    show_default=True,
    help="Markdown or an HTML page for people, JSON (the facts) for machines, "
    "CSV (the numbers behind every table) for spreadsheets.",
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
    header = (
        f"{'kind':19} {'release':10} {'as of':10} {'rows':>9} {'rejected':>8}  file"
    )
    click.echo(header)
    for e in entries:
        as_of = e.as_of.isoformat() if e.as_of else "-"
        state = "" if e.complete else f" INCOMPLETE: {e.problem}"
        click.echo(
            f"{e.kind:19} {e.release:10} {as_of:10} {e.rows_loaded:>9,} "
            f"{e.rows_rejected:>8,}  {e.file_name} ({e.publisher}){state}"
        )
    from payerbrief.tic_sources import payer_files

    with _warehouse(ctx) as warehouse:
        files = payer_files(warehouse)
    if files:
        click.echo("\nPayer files:")
        click.echo(
            f"{'payer':36} {'plan':28} {'schema':7} {'updated':10} {'codes':>6} "
            f"{'rates':>9} {'rejected':>8}  file"
        )
        for f in files:
            click.echo(
                f"{f.payer[:36]:36} {f.plan[:28]:28} {f.version:7} "
                f"{f.last_updated_on[:10]:10} {f.codes:>6,} {f.rates:>9,} "
                f"{f.rejected:>8,}  {f.file_name}"
            )


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--show", default=20, show_default=True, help="How many violations to list."
)
def validate(path: Path, show: int) -> None:
    """Check a Transparency in Coverage file against the CMS schema of its version.

    Streams the file: each element of its big arrays is checked on its own.
    Every violation is listed with its JSON path and element; exits 1 when the
    file does not conform.
    """
    from payerbrief.sources.tic.validate import validate_file

    try:
        report = validate_file(path)
    except PayerbriefError as error:
        raise _fail(error) from error
    click.echo(report.summary())
    for violation in report.violations[:show]:
        click.echo(f"  {violation.path}: {violation.message}")
    if not report.valid:
        raise Failed(
            f"{path} does not conform to the CMS schema {report.schema_version}\n"
            "Hint: ingest keeps the valid items; `ingest tic --strict` refuses it"
        )


def _site_codes(codes: str | None, all_codes: bool) -> list[str] | None:
    from payerbrief.site import parse_codes

    if codes is not None and all_codes:
        raise BadUsage(
            "--codes and --all cannot be used together\n"
            "Hint: --all (the default) publishes every code; --codes limits the site"
        )
    if codes is None:
        return None
    if not Path(codes).is_file() and ("/" in codes or "." in codes):
        raise BadUsage(
            f"--codes: no file {codes}\n"
            "Hint: pass a file of codes, or codes separated by commas (99213,3372F)"
        )
    chosen = parse_codes(codes)
    if not chosen:
        raise BadUsage(
            f"--codes names no code: {codes!r}\n"
            "Hint: pass a file of codes, or codes separated by commas (99213,3372F)"
        )
    return chosen


@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--codes",
    metavar="FILE|CODES",
    help="Only these codes: a file of codes, or codes separated by commas "
    "(99213,3372F).",
)
@click.option(
    "--all",
    "all_codes",
    is_flag=True,
    help="Every code in the loaded fee schedule and HCPCS files (the default).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Check every brief and fail if any has a broken fact.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes writing briefs (default: one per CPU).",
)
@click.option(
    "--release",
    "releases",
    multiple=True,
    metavar="KIND=RELEASE",
    help="Use this release of a source (default: the newest), e.g. pfs-rvu=RVU25A.",
)
@click.pass_context
def site(
    ctx: click.Context,
    out: Path,
    codes: str | None,
    all_codes: bool,
    strict: bool,
    jobs: int | None,
    releases: tuple[str, ...],
) -> None:
    """Write the static site into OUT: a page per code, browsing, search."""
    import os
    import sys

    from payerbrief.facts.reference import Reference
    from payerbrief.site import ReferenceSource, build_site, select_codes

    chosen = _site_codes(codes, all_codes)
    picked = _releases(releases)
    with _warehouse(ctx) as warehouse:
        try:
            ref = Reference.load(warehouse, picked)
            manifest = warehouse.entries()
            selected = select_codes(ref, chosen)
        except PayerbriefError as error:
            raise _fail(error) from error
    # Workers read the warehouse read-only, so the write connection is closed.
    options: dict[str, Any] = {
        "strict": strict,
        "jobs": jobs or len(os.sched_getaffinity(0)),
        "source": ReferenceSource(warehouse.home, picked),
    }
    try:
        if ctx.obj["quiet"]:
            result = build_site(ref, out, manifest, selected, **options)
        else:
            with click.progressbar(
                length=len(selected), label="Writing briefs", file=sys.stderr
            ) as bar:
                options["on_briefs"] = bar.update
                result = build_site(ref, out, manifest, selected, **options)
    except PayerbriefError as error:
        raise _fail(error) from error
    others = result.pages - result.codes
    _say(ctx, f"Wrote {result.codes:,} briefs and {others:,} other pages to {out}")
    _say(ctx, f"Open {out / 'index.html'}")


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the briefs' pages and the JSON API over HTTP (needs the web extra)."""
    from payerbrief.web.server import serve as run_server

    home = ctx.obj["home"]
    try:
        run_server(
            home,
            host,
            port,
            on_ready=lambda url: _say(ctx, f"Serving {home} at {url} (Ctrl-C stops)"),
        )
    except PayerbriefError as error:
        raise _fail(error) from error


@main.command()
@click.argument("code")
@click.option(
    "--by",
    default="payer",
    show_default=True,
    metavar="DIMENSION",
    help="payer, plan, billing-class or place-of-service.",
)
@click.pass_context
def compare(ctx: click.Context, code: str, by: str) -> None:
    """Compare the negotiated rates of CODE across payers, plans, classes or places."""
    from payerbrief.compare import DIMENSIONS, UnknownDimensionError, format_table
    from payerbrief.compare import compare as run_compare
    from payerbrief.facts.reference import Reference

    if by not in DIMENSIONS:
        raise BadUsage(str(UnknownDimensionError(by)))
    with _warehouse(ctx) as warehouse:
        try:
            ref = Reference.load(warehouse)
            table = run_compare(ref, ref.resolve(code), by)
        except PayerbriefError as error:
            raise _fail(error) from error
    click.echo(format_table(table), nl=False)
