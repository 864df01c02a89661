"""The ``tei-ingest`` command line.

Exit codes: 0 all good, 1 some documents failed (the rest were written), 2 usage
error, 3 the run could not start or could not write its output.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import EXIT_CANNOT_RUN, EXIT_USAGE, IngestError


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal's width as ``shutil.get_terminal_size`` finds it
    ($COLUMNS, else the terminal, else 80) without importing shutil, which every command
    would otherwise import only for this."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


def _columns() -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports usage errors with exit code 2 without exiting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _ingest_arguments(ingest: argparse.ArgumentParser) -> None:
    ingest.add_argument("sources", nargs="+", type=Path, metavar="SOURCES",
                        help="source files, or folders whose *.txt files are read in sorted order")
    ingest.add_argument("-o", "--output", required=True, type=Path, metavar="DIR",
                        help="output folder: DIR/<source stem>.xml and DIR/manifest.json")
    ingest.add_argument("--config", type=Path, default=None,
                        help="corpus configuration (default: ./tei-ingest.toml when present)")
    ingest.add_argument("--tei-all", type=Path, default=None, metavar="RNG",
                        help="the official tei_all.rng to validate against "
                        "(default: $TEI_ALL_RNG, else [schemas] tei_all in the configuration)")
    ingest.add_argument("--require-tei-all", action="store_true",
                        help="exit 3 when tei_all.rng cannot be found instead of skipping that check")
    ingest.add_argument("-q", "--quiet", action="store_true", help="do not print the summary table")
    ingest.add_argument("--max-bytes", type=int, default=None, metavar="N",
                        help="refuse sources larger than N bytes (default 8 MiB)")
    ingest.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="encode and validate with N processes (default 1); the output is the same")
    ingest.add_argument("--checksum", action="store_true",
                        help="read and hash every source and output, even those whose size, times and inode "
                             "are as an earlier run recorded them")
    ingest.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="where documents are encoded: local processes (--jobs), or a Dask cluster (--scheduler)")
    ingest.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="with --executor dask: the dask.distributed scheduler, e.g. tcp://10.0.0.5:8786")


def _validate_arguments(val: argparse.ArgumentParser) -> None:
    val.add_argument("paths", nargs="+", type=Path, metavar="PATHS", help="TEI files or folders of *.xml files")
    val.add_argument("--schema", default="project", metavar="project|tei_all|declared|FILE.rng",
                     help="the schema to check against (default: the project schema and its rules)")
    val.add_argument("--format", choices=("text", "json", "junit", "github"), default="text")
    val.add_argument("--tei-all", type=Path, default=None, metavar="RNG", help="the official tei_all.rng")
    val.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                     help="check with N processes (files are checked in chunks of 200 files or 16 MiB)")
    val.add_argument("--no-schematron", action="store_true",
                     help="check the RELAX NG schema only, not the Schematron rules embedded in it")
    val.add_argument("--max-bytes", type=int, default=None, metavar="N",
                     help="refuse files larger than N bytes (default 256 MiB)")


def _export_arguments(exp: argparse.ArgumentParser) -> None:
    formats = ("all", *_export_formats())
    exp.add_argument("format", metavar="FORMAT", choices=formats, help="one of: " + ", ".join(formats))
    exp.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="folder to write into")
    exp.add_argument("--corpus", type=Path, default=Path("tei"), metavar="CORPUS",
                     help="the folder `tei-ingest ingest` wrote (default: tei)")
    exp.add_argument("--config", type=Path, default=None,
                     help="corpus configuration (default: ./tei-ingest.toml when present)")


def _verify_arguments(ver: argparse.ArgumentParser) -> None:
    ver.add_argument("corpus", type=Path, metavar="DIR", help="the folder `tei-ingest ingest` wrote")
    ver.add_argument("--format", choices=("text", "json"), default="text")


def _serve_arguments(srv: argparse.ArgumentParser) -> None:
    srv.add_argument("corpus", type=Path, metavar="DIR", help="the folder `tei-ingest ingest` wrote")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0: any free port)")
    srv.add_argument("--page-size", type=int, default=100, metavar="N",
                     help="records or identifiers per response before a resumptionToken (default: 100)")
    srv.add_argument("--config", type=Path, default=None,
                     help="corpus configuration (default: ./tei-ingest.toml when present)")


def _eval_arguments(ev: argparse.ArgumentParser) -> None:
    ev.add_argument("texts", type=Path, metavar="TEXTS_DIR", help="folder of <id>.txt sources")
    ev.add_argument("truth", type=Path, metavar="TRUTH_DIR", help="folder of <id>.json truth files")
    ev.add_argument("--per-doc", action="store_true", help="list every miss, document by document")


#: Each subcommand: its one-line help and what adds its arguments.
_COMMANDS = {
    "ingest": ("encode sources as TEI and write the corpus manifest", _ingest_arguments),
    "validate": ("check TEI files: well-formedness, RELAX NG and Schematron", _validate_arguments),
    "export": ("write exchange formats of a corpus: BagIt, CMIF, OAI-PMH, Dublin Core", _export_arguments),
    "verify": ("fixity audit: compare a corpus folder with its manifest", _verify_arguments),
    "serve": ("run an OAI-PMH data provider for a corpus on this machine", _serve_arguments),
    "eval": ("measure metadata extraction against labelled documents", _eval_arguments),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand, or of the one named ``only``.

    ``main`` builds the parser of the command the command line names, the same as that
    command's part of the whole one, so that a command does not build the others first.
    """
    parser = _Parser(prog="tei-ingest", description="Encode plain-text archival documents as TEI P5.")
    parser.add_argument("--version", action="version", version=f"tei-ingest {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_text, add_arguments) in _COMMANDS.items():
        if only is None or only == name:
            add_arguments(sub.add_parser(name, help=help_text))
    return parser


def _validate(args: argparse.Namespace) -> int:
    from .validate import MAX_BYTES, check_files, find_tei_all, format_verdicts

    files: list[Path] = []
    for p in args.paths:
        if p.is_dir():  # its *.xml files, in its whole tree (a folder named x.xml is a folder)
            files.extend(sorted(Path(top) / name for top, _, names in os.walk(p) for name in names
                                if name.endswith(".xml")))
        else:
            files.append(p)
    tei_all = args.tei_all
    if args.schema in ("tei_all", "declared") and tei_all is None:  # declared: for tei_all at tei-c.org
        tei_all = find_tei_all()  # $TEI_ALL_RNG comes first: the configuration is read only without it
        if tei_all is None:
            from .config import load_config

            config, _ = load_config(None)
            tei_all = find_tei_all(config.tei_all)
    if args.schema not in ("project", "tei_all", "declared") and not Path(args.schema).is_file():
        print(f"tei-ingest: {args.schema}: no such schema file", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if args.jobs < 1:
        print("tei-ingest: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    verdicts = check_files(files, args.schema, tei_all, jobs=args.jobs, schematron=not args.no_schematron,
                           max_bytes=args.max_bytes or MAX_BYTES)
    report = format_verdicts(verdicts, args.format)
    if report:
        print(report)
    if args.format == "text":
        bad = sum(not v.valid for v in verdicts)
        print(f"{len(verdicts) - bad} valid, {bad} invalid", file=sys.stderr)
    return 1 if any(not v.valid for v in verdicts) else 0


def _export_formats() -> tuple[str, ...]:
    from .formats import FORMATS

    return tuple(FORMATS)


def _export(args: argparse.Namespace) -> int:
    from .config import load_config
    from .export import export, make_context
    from .formats import FORMATS

    config, _ = load_config(args.config)
    ctx = make_context(args.corpus, config, os.environ)
    names = list(FORMATS) if args.format == "all" else [args.format]
    for path in export(names, ctx, args.output):
        print(path.as_posix())
    return 0


def _verify(args: argparse.Namespace) -> int:
    import json

    from .corpus import check_fixity, read_manifest

    manifest = read_manifest(args.corpus)
    fixity = check_fixity(args.corpus, manifest)
    issues = fixity.issues(args.corpus.as_posix())
    if args.format == "json":
        print(json.dumps({"corpus": args.corpus.as_posix(), "checked": fixity.checked, "ok": fixity.ok,
                          "changed": [{"path": n, "reason": r} for n, r in fixity.changed],
                          "missing": list(fixity.missing), "unexpected": list(fixity.unexpected),
                          "pending": [{"path": n, "state": st} for n, st in fixity.pending]},
                         indent=2, sort_keys=True))
    else:
        for issue in issues:
            print(issue)
        unchanged = fixity.checked - len(fixity.changed) - len(fixity.missing)
        print(f"{fixity.checked} files listed: {unchanged} unchanged, {len(fixity.changed)} changed, "
              f"{len(fixity.missing)} missing; {len(fixity.unexpected)} unexpected"
              + (f"; {len(fixity.pending)} pending from an interrupted run" if fixity.pending else ""),
              file=sys.stderr)
    return 0 if fixity.ok else 1


def _serve(args: argparse.Namespace) -> int:
    from .config import load_config
    from .export import make_context
    from .export.oai import serve

    if args.page_size < 1:
        print("tei-ingest: --page-size must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    config, _ = load_config(args.config)
    ctx = make_context(args.corpus, config, os.environ)
    serve(ctx, args.host, args.port, page_size=args.page_size)
    return 0


def _eval(args: argparse.Namespace) -> int:
    import json

    from .evaluate import evaluate, format_report, summarise
    from .pipeline import make_record

    results = evaluate(args.texts, args.truth, make_record)
    summary = summarise(results)
    print(format_report(summary, results, args.per_doc))
    print(json.dumps(summary, sort_keys=True, ensure_ascii=False))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from .pipeline import run, table_lines

    if args.jobs < 1:
        print("tei-ingest: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if (args.executor == "dask") != (args.scheduler is not None):
        print("tei-ingest: --executor dask and --scheduler ADDRESS go together", file=sys.stderr)
        return EXIT_USAGE
    result = run(
        args.sources,
        args.output,
        config_path=args.config,
        tei_all=args.tei_all,
        require_tei_all=args.require_tei_all,
        jobs=args.jobs,
        scheduler=args.scheduler,
        checksum=args.checksum,
        **({"max_bytes": args.max_bytes} if args.max_bytes else {}),
    )
    for r in result.rejected:
        for issue in r.issues:
            print(f"error: {issue}", file=sys.stderr)
    if not args.quiet:
        for line in table_lines(result):
            print(line)
        checked = "project schema" + (" and tei_all" if "tei_all" in result.schemas else "")
        print(f"\n{result.written} written to {args.output}, {len(result.rejected)} failed; "
              f"validated against the {checked}.")
        if "tei_all" not in result.schemas:
            print("warning: tei_all.rng not found, documents were not checked against it "
                  "(set TEI_ALL_RNG or --tei-all)", file=sys.stderr)
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv and argv[0] in _COMMANDS else None)
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    try:
        commands = {"ingest": _ingest, "eval": _eval, "validate": _validate, "export": _export,
                    "verify": _verify, "serve": _serve}
        if args.command in commands:
            return commands[args.command](args)
    except IngestError as exc:
        for issue in exc.issues:
            print(f"tei-ingest: {issue}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("tei-ingest: interrupted; files already written are complete", file=sys.stderr)
        return 130
    return EXIT_USAGE
