"""Benchmark `tei-ingest ingest` on a synthetic corpus, beside two references, in one run.

It generates COUNT documents (bench/corpus.py) and measures, all on the same texts:

* `tei-ingest ingest` as a whole command with --jobs 1 and --jobs 2 (documents per
  second, peak memory of the process and its workers), then again with nothing changed
  (twice: the first re-run reads back what the full run wrote in its last seconds) and
  with one source changed; then --pairs - 1 more pairs of full runs with --jobs 1 and 2,
  as the machine's speed drifts: each pair's ratio and their median;
* the time of each stage, in this process, on a sample of the documents;
* the floor: reading each text and building and serialising a TEI document of its
  paragraphs with lxml and nothing else;
* pandoc (PyPI `pypandoc-binary`) converting each text to TEI, one call per document as a
  user would, on up to --pandoc-max documents (scaled, and said so).

Usage: python bench/throughput.py [--count 1000] [--sample 200] [--pandoc-max 100] [--pairs 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from command import TEI_INGEST  # noqa: E402
from corpus import write_corpus  # noqa: E402

EPOCH = "1795392000"


def run_command(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run a command; return its wall time and the peak memory (KiB) of its largest process."""
    t = time.perf_counter()
    with subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read() if proc.stderr else b""
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {err.decode()[-800:]}")
    # wait4's rusage covers the process and the workers it waited for; ru_maxrss is the largest
    return elapsed, usage.ru_maxrss


def ingest_cmd(src: Path, out: Path, jobs: int) -> list[str]:
    return [*TEI_INGEST, "ingest", str(src), "-o", str(out), "-q", "--jobs", str(jobs),
            "--config", str(ROOT / "tei-ingest.toml")]


@contextmanager
def stage_timer(timings: dict[str, float]) -> Iterator[None]:
    """Time the pipeline's stages by wrapping the functions that make them up."""
    import ingest.extract.metadata as metadata
    import ingest.extract.structure as structure
    import ingest.gazetteer as gazetteer
    import ingest.pipeline as pipeline

    wrapped: list[tuple[Any, str, Callable[..., Any]]] = []

    def wrap(module: Any, name: str, stage: str) -> None:
        real = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                timings[stage] += time.perf_counter() - t

        wrapped.append((module, name, real))
        setattr(module, name, timed)

    wrap(pipeline, "read_source", "read and decode")
    wrap(structure, "parse_structure", "structure")
    wrap(metadata, "assign_languages", "language detection")
    wrap(metadata, "extract", "metadata (with language detection)")
    wrap(gazetteer, "find_places", "places")
    wrap(pipeline, "find_people", "persons")
    wrap(pipeline, "find_orgs", "organisations")
    wrap(pipeline, "encode", "TEI tree")
    wrap(pipeline, "to_bytes", "serialise")
    wrap(pipeline.Validators, "check", "validate (project, Schematron, tei_all)")
    try:
        yield
    finally:
        for module, name, real in wrapped:
            setattr(module, name, real)


def stages(paths: list[Path], out: Path) -> tuple[dict[str, float], float]:
    """Return the seconds spent in each stage over the documents, and the total per document."""
    from ingest import __version__
    from ingest.config import BuildInfo, load_config
    from ingest.pipeline import SourceRef, Validators, encode_source

    config, _ = load_config(ROOT / "tei-ingest.toml")
    build = BuildInfo(__version__, int(EPOCH))
    validators = Validators(config, None, False)
    encode_source(SourceRef(str(paths[0]), paths[0].name), config, build, validators, out)  # warm the caches
    timings: dict[str, float] = defaultdict(float)
    t = time.perf_counter()
    with stage_timer(timings):
        for p in paths:
            try:
                encode_source(SourceRef(str(p), p.name), config, build, validators, out)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
                print(f"  {p.name}: {exc}", file=sys.stderr)
    return dict(timings), (time.perf_counter() - t) / len(paths)


def floor(paths: list[Path]) -> float:
    """Return seconds per document to read a text and build and serialise a TEI of its paragraphs."""
    from lxml import etree

    ns = "http://www.tei-c.org/ns/1.0"
    t = time.perf_counter()
    for p in paths:
        text = p.read_text(encoding="utf-8")
        tei = etree.Element(f"{{{ns}}}TEI", nsmap={None: ns})  # type: ignore[dict-item]
        header = etree.SubElement(tei, f"{{{ns}}}teiHeader")
        fd = etree.SubElement(header, f"{{{ns}}}fileDesc")
        etree.SubElement(etree.SubElement(fd, f"{{{ns}}}titleStmt"), f"{{{ns}}}title").text = p.stem
        etree.SubElement(etree.SubElement(fd, f"{{{ns}}}publicationStmt"), f"{{{ns}}}p").text = "bench"
        etree.SubElement(etree.SubElement(fd, f"{{{ns}}}sourceDesc"), f"{{{ns}}}p").text = p.name
        body = etree.SubElement(etree.SubElement(tei, f"{{{ns}}}text"), f"{{{ns}}}body")
        for para in text.split("\n\n"):
            if para.strip():
                etree.SubElement(body, f"{{{ns}}}p").text = para.strip()
        etree.tostring(tei, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return (time.perf_counter() - t) / len(paths)


def pandoc(paths: list[Path], out: Path) -> float | None:
    """Return seconds per document for pandoc to convert each text to TEI, or None without pandoc."""
    try:
        import pypandoc  # type: ignore[import-not-found]

        exe = pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        return None
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    for p in paths:
        subprocess.run([exe, "-f", "markdown", "-t", "tei", "-s", "-o", str(out / f"{p.stem}.xml"), str(p)],
                       check=True, capture_output=True)
    return (time.perf_counter() - t) / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--pandoc-max", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=3, help="full runs with --jobs 1 then --jobs 2, alternating")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tei-ingest-bench-"))
    try:
        src = work / "src"
        paths = write_corpus(src, args.count, args.seed)
        size = sum(p.stat().st_size for p in paths) / len(paths)
        print(f"{args.count} synthetic documents, {size:,.0f} bytes on average; {os.cpu_count()} cores\n")
        env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "TEI_INGEST_CACHE": str(work / "cache")}
        # the schema's prepared forms are made once per machine: not part of what is measured
        run_command(ingest_cmd(src, work / "warm", 1), {**env, "TEI_INGEST_CACHE": str(work / "cache-schema")})
        rows: list[tuple[str, float, int]] = []

        def full_runs(tag: str) -> tuple[float, float]:
            """A full run with --jobs 1, then --jobs 2: empty output folders, no records."""
            times = []
            for jobs in (1, 2):
                cache = work / f"cache-{jobs}{tag}"
                shutil.copytree(work / "cache-schema", cache)
                shutil.rmtree(cache / next(cache.iterdir()).name / "records", ignore_errors=True)
                seconds, rss = run_command(ingest_cmd(src, work / f"out-{jobs}{tag}", jobs),
                                           {**env, "TEI_INGEST_CACHE": str(cache)})
                if not tag:
                    rows.append((f"ingest --jobs {jobs}", seconds, rss))
                times.append(seconds)
            return times[0], times[1]

        pairs = [full_runs("")]
        # the first re-run reads back what the full run wrote in its last seconds (see ingest/digests.py)
        for name in ("ingest again, nothing changed", "and again, nothing changed"):
            again, rss = run_command(ingest_cmd(src, work / "out-1", 1), {**env, "TEI_INGEST_CACHE": str(work /
                                                                                                       "cache-1")})
            rows.append((name, again, rss))
        changed = paths[len(paths) // 2]
        text = changed.read_text(encoding="utf-8")
        changed.write_text(text + "\nP.S.\n", encoding="utf-8")
        one, rss = run_command(ingest_cmd(src, work / "out-1", 1), {**env, "TEI_INGEST_CACHE": str(work /
                                                                                                 "cache-1")})
        rows.append(("ingest again, one source changed", one, rss))
        changed.write_text(text, encoding="utf-8")
        pairs += [full_runs(f"-{n}") for n in range(1, args.pairs)]
        full = rows[0][1]
        print("| run | seconds | documents/s | peak RSS (MB) | against --jobs 1 |")
        print("|---|---:|---:|---:|---:|")
        for name, seconds, rss in rows:
            against = f"{seconds / full:.1%} of its time" if "again" in name else f"{full / seconds:.2f}× as fast"
            print(f"| {name} | {seconds:.2f} | {args.count / seconds:,.1f} | {rss / 1024:.0f} | {against} |")
        ratios = sorted(one / two for one, two in pairs)
        print(f"\n--jobs 2 against --jobs 1, {len(pairs)} pairs of full runs one after the other: "
              + ", ".join(f"{one:.2f} s / {two:.2f} s = {one / two:.2f}×" for one, two in pairs)
              + f"; median {statistics.median(ratios):.2f}×")
        sample = paths[: args.sample]
        timings, per_doc = stages(sample, work / "stages")
        floor_s = floor(paths)
        pandoc_s = pandoc(paths[: args.pandoc_max], work / "pandoc")
        print(f"\nPer document, on {len(sample)} documents in this process: {per_doc * 1000:.2f} ms")
        print("| stage | ms per document | share |")
        print("|---|---:|---:|")
        for stage, seconds in sorted(timings.items(), key=lambda kv: -kv[1]):
            print(f"| {stage} | {seconds / len(sample) * 1000:.2f} | {seconds / len(sample) / per_doc:.0%} |")
        print("\n| reference | ms per document | tei-ingest --jobs 1 takes |")
        print("|---|---:|---:|")
        ours = full / args.count
        print(f"| floor: read, build and serialise with lxml | {floor_s * 1000:.3f} | {ours / floor_s:.0f}× its time |")
        if pandoc_s is None:
            print("| pandoc | not installed (pip install pypandoc-binary) | |")
        else:
            n = min(args.pandoc_max, len(paths))
            print(f"| pandoc -t tei, a call per document ({n} measured) | {pandoc_s * 1000:.1f} | "
                  f"{ours / pandoc_s:.2f}× its time |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
