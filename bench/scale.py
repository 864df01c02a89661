"""Benchmark `tei-ingest ingest` at archive scale: time and peak memory as the corpus grows.

For each COUNT it generates that many synthetic documents (bench/corpus.py) and runs, as
whole commands in one run of this script:

* a full run (`--jobs J`), with an empty record cache;
* the same command again, nothing changed, twice (the first reads back what the full run
  wrote in its last seconds, and the manifest: see ingest/digests.py);
* again with one source changed, then with one source removed;
* then what reads the corpus back: `verify`, each `export` format, and `serve` (started,
  then asked for one ListRecords page).

Memory is read from /proc while the command runs (VmHWM, the peak resident set, of the
command's own process and of each worker process), so the writing process and the workers
are reported apart. Ratios are to the full run of the same COUNT, measured in this run.

Usage: python bench/scale.py [--count 1000 10000] [--jobs 1] [--seed 1] [--no-readers]
       python bench/scale.py --count 100000 --jobs 2     # about 20 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from command import TEI_INGEST  # noqa: E402
from corpus import write_corpus  # noqa: E402

EPOCH = "1795392000"


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        pass
    return out


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Run a command; return its wall time and the peak memory (KiB) of its process and of its largest worker."""
    peaks = {"main": 0, "worker": 0}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peaks["main"] = max(peaks["main"], _hwm_kib(proc.pid))
            for child in _children(proc.pid):
                peaks["worker"] = max(peaks["worker"], _hwm_kib(child))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    done.set()
    sampler.join()
    err = proc.stderr.read() if proc.stderr else b""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(cmd[:3])} failed ({code}): {err.decode()[-800:]}")
    # ru_maxrss is the largest of the process and its workers; alone, it is the process's own peak
    if not peaks["worker"]:
        return elapsed, usage.ru_maxrss, 0
    return elapsed, peaks["main"], max(peaks["worker"], usage.ru_maxrss if usage.ru_maxrss > peaks["main"] else 0)


def readers(corpus: Path, out: Path, env: dict[str, str]) -> list[tuple[str, tuple[float, int]]]:
    """Time what reads a corpus back, and read its peak memory: verify, each export, serve."""
    base = TEI_INGEST
    config = ["--config", str(ROOT / "tei-ingest.toml")]
    rows = [("verify", measure([*base, "verify", str(corpus)], env)[:2])]
    for fmt in ("bagit", "cmif", "oai", "dc"):
        rows.append((f"export {fmt}", measure([*base, "export", fmt, "--corpus", str(corpus), "-o", str(out),
                                               *config], env)[:2]))
    shutil.rmtree(out, ignore_errors=True)
    rows.append(("serve: start, one ListRecords page", serve(corpus, env, [*base, "serve", str(corpus), "--port",
                                                                         "0", *config])))
    return rows


def serve(corpus: Path, env: dict[str, str], cmd: list[str]) -> tuple[float, int]:
    """Start the data provider; return the time until it answers one ListRecords page, and its peak memory."""
    import re
    import urllib.request

    t = time.perf_counter()
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # "OAI-PMH data provider at URL (Ctrl-C to stop)"
            found = re.search(r"(http://\S+)", line)
            if found is None:
                sys.exit(f"serve did not start: {line!r}")
            with urllib.request.urlopen(f"{found[1]}?verb=ListRecords&metadataPrefix=tei", timeout=600) as r:
                r.read()
            seconds = time.perf_counter() - t
            return seconds, _hwm_kib(proc.pid)
        finally:
            proc.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, help="folder for the corpora (default: a temporary one, removed)")
    parser.add_argument("--no-readers", action="store_true", help="measure ingest only (not verify, export, serve)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="tei-ingest-scale-"))
    print(f"{os.cpu_count()} cores; ingest --jobs {args.jobs}; seconds, peak RSS in MB of the command's process "
          "(and of its largest worker)\n")
    print("| documents | run | seconds | documents/s | peak RSS, process | worker | against the full run |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    try:
        for count in args.count:
            src, out = work / f"src-{count}", work / f"out-{count}"
            for folder in (src, out, work / "cache"):
                shutil.rmtree(folder, ignore_errors=True)
            paths = write_corpus(src, count, args.seed)
            env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "TEI_INGEST_CACHE": str(work / "cache")}

            def ingest(source: Path, output: Path) -> list[str]:
                return [*TEI_INGEST, "ingest", str(source), "-o", str(output), "-q", "--jobs",
                        str(args.jobs), "--config", str(ROOT / "tei-ingest.toml")]

            # the schemas' prepared forms are made once per machine: not part of what is measured
            subprocess.run(ingest(paths[0], work / "warm"), env=env, check=True, capture_output=True)
            shutil.rmtree(work / "warm")
            for records in (work / "cache").glob("*/records"):
                shutil.rmtree(records)
            cmd = ingest(src, out)
            # the first re-run reads back what the full run wrote in its last seconds (see
            # ingest/digests.py); the next one need not
            runs = [("full run", measure(cmd, env)), ("again, nothing changed", measure(cmd, env)),
                    ("and again, nothing changed", measure(cmd, env))]
            changed = paths[count // 2]
            changed.write_text(changed.read_text(encoding="utf-8") + "\nP.S.\n", encoding="utf-8")
            runs.append(("again, one source changed", measure(cmd, env)))
            paths[count // 3].unlink()
            runs.append(("again, one source removed", measure(cmd, env)))
            full = runs[0][1][0]
            for name, (seconds, rss, worker) in runs:
                against = "" if name == "full run" else f"{seconds / full:.2%}"
                print(f"| {count:,} | {name} | {seconds:.2f} | {count / seconds:,.1f} | {rss / 1024:.0f} | "
                      f"{worker / 1024:.0f} | {against} |", flush=True)
            for name, (seconds, rss) in [] if args.no_readers else readers(out, work / f"export-{count}", env):
                print(f"| {count:,} | {name} | {seconds:.2f} | {count / seconds:,.1f} | {rss / 1024:.0f} | – | |",
                      flush=True)
            shutil.rmtree(src, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
