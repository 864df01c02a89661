"""Benchmark `tei-ingest validate --schema tei_all` side by side with jing, in one run.

For 1, 50 and 1000 TEI files (copies of the project's corpus and of the validation test
documents, each under its own name), and for 1 and 50 files of which one is invalid (an
attribute the schema does not allow: "1i", "50i"), it times, as whole commands, the
median of several runs of:

* jing, one invocation for all the files (batch mode);
* jing, one invocation per file (what gives every file a verdict when one is not
  well-formed): measured on up to ``--per-file-max`` files and scaled, and said so;
* lxml compiling the whole tei_all.rng then validating (the status quo in Python);
* tei-ingest with an empty schema cache (first run on a machine: CI), and warm;
* tei-ingest --jobs 2 (for the larger sets).

tei-ingest is a regular install (``pip install``, as a CI job or a pre-commit hook makes it)
in a new virtual environment, unless ``--editable`` times this environment's command.

Usage: python bench/validate.py [--runs 5] [--sizes 1,50,1000,1i,50i] [--per-file-max 20] [--editable]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from command import TEI_INGEST, regular_install  # noqa: E402


def timed(cmd: list[str], env: dict[str, str] | None = None, before: object = None) -> float:
    if callable(before):
        before()
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - t
    if done.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def median(cmd: list[str], runs: int, env: dict[str, str] | None = None, before: object = None) -> float:
    return statistics.median(timed(cmd, env, before) for _ in range(runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="1,50,1000,1i,50i")
    ap.add_argument("--per-file-max", type=int, default=20)
    ap.add_argument("--editable", action="store_true",
                    help="time this environment's tei-ingest instead of a regular install made for the run")
    default = os.environ.get("TEI_ALL_RNG", str(ROOT.parent / "shared/schemas/tei/tei_all.rng"))
    ap.add_argument("--tei-all", default=default)
    args = ap.parse_args()
    jing = shutil.which("jing")
    if jing is None:
        sys.exit("jing is not installed (Debian package jing)")
    tei_all = args.tei_all
    python = sys.executable
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "ingest")], check=True, capture_output=True)
    sources = sorted((ROOT / "tei").glob("*.xml")) + sorted(
        p for p in (ROOT / "tests/validate_cases").glob("*.xml") if p.name not in ("xinclude.xml",))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    lxml_full = (f"from lxml import etree; import sys; s = etree.RelaxNG(etree.parse({tei_all!r})); "
                 "[s.validate(etree.parse(f)) for f in sys.argv[1:]]")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        command = TEI_INGEST if args.editable else regular_install(Path(tmp))
        how = "this environment's" if args.editable else "installed with pip for this run"
        print(f"tei-ingest: {command[0]} ({how})")
        cache = Path(tmp) / "cache"
        for spec in args.sizes.split(","):
            size, invalid = int(spec.rstrip("i")), spec.endswith("i")
            folder = Path(tmp) / f"set{spec}"
            folder.mkdir()
            files = []
            for i in range(size):
                target = folder / f"{i:05d}-{sources[i % len(sources)].name}"
                shutil.copyfile(sources[i % len(sources)], target)
                files.append(str(target))
            if invalid:  # the last file is a play with an attribute tei_all does not allow
                text = (ROOT / "tests/validate_cases/drama.xml").read_text(encoding="utf-8")
                broken = text.replace('<stage type="setting">', '<stage type="setting" colour="red">', 1)
                assert broken != text
                Path(files[-1]).unlink()
                files[-1] = str(folder / f"{size - 1:05d}-invalid-drama.xml")
                Path(files[-1]).write_text(broken, encoding="utf-8")
            ours = [*command, "validate", "--schema", "tei_all", "--tei-all", tei_all, "--format", "json"]
            warm_env = {**env, "TEI_INGEST_CACHE": str(cache)}
            cold_env = {**env, "TEI_INGEST_CACHE": str(Path(tmp) / "cold")}

            def clear() -> None:
                shutil.rmtree(Path(tmp) / "cold", ignore_errors=True)

            timed([*ours, str(folder)], warm_env)  # fill the warm cache
            r = {"files": spec}
            r["jing batch"] = median([jing, tei_all, *files], args.runs)
            sample = files[: args.per_file_max]
            per_file = [median([jing, tei_all, f], 1) for f in sample]
            r["jing per file"] = sum(per_file) * size / len(sample)
            r["per-file scaled"] = len(sample) < size
            r["lxml full compile"] = median([python, "-c", lxml_full, *files], max(1, args.runs // 2))
            r["tei-ingest cold"] = median([*ours, str(folder)], args.runs, cold_env, clear)
            r["tei-ingest warm"] = median([*ours, str(folder)], args.runs, warm_env)
            if size >= 50:
                r["tei-ingest warm -j2"] = median([*ours, "--jobs", "2", str(folder)], args.runs, warm_env)
            rows.append(r)
    print(f"tei_all: {tei_all}; median of {args.runs} runs; times in seconds, ratio = jing batch / this\n")
    keys = ["jing batch", "jing per file", "lxml full compile", "tei-ingest cold", "tei-ingest warm",
            "tei-ingest warm -j2"]
    print(f"{'files':>6}  " + "  ".join(f"{k:>20}" for k in keys))
    for r in rows:
        cells = []
        for k in keys:
            if k not in r:
                cells.append(f"{'–':>20}")
                continue
            v = float(r[k])
            note = "*" if k == "jing per file" and r["per-file scaled"] else ""
            cells.append(f"{v:9.3f}{note:1} ({float(r['jing batch']) / v:5.1f}x)".rjust(20))
        print(f"{r['files']:>6}  " + "  ".join(cells))
    print(f"\n* jing per file: {args.per_file_max} invocations measured, scaled to the number of files")
    print("ratio against jing per file = (jing per file) / (tei-ingest); the table shows the batch ratio")
    for r in rows:
        warm, cold = float(r["tei-ingest warm"]), float(r["tei-ingest cold"])
        print(f"{r['files']:>6} files: tei-ingest warm is {float(r['jing per file']) / warm:.0f}x faster than "
              f"jing per file, {float(r['jing batch']) / warm:.1f}x than jing batch; "
              f"cold {float(r['jing batch']) / cold:.1f}x than jing batch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
