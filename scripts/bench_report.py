#!/usr/bin/env python3
"""Report of the peers comparison that scripts/bench runs (python3 standard library only).

Reads the Google Benchmark JSON files of one run of frost and its peers (bench/peers/), named
r<round>_t<threads>_<peer>_<variant>.json, and

  - takes, per (peer, threads, case), the median over the rounds of the time per step: CPU time
    at 1 thread, wall-clock time at more (the peers time wall clock there, see
    bench/peers/README.md); for a peer run in several variants (libtorch at 2 threads, as is and
    with OMP_WAIT_POLICY=PASSIVE) the variant with the lower median is kept and named;
  - writes a markdown section between the markers <!-- peers:begin --> and <!-- peers:end --> of
    the documentation page (adding a section "## frost and its peers" after the page's
    introduction when the markers are missing), and prints it;
  - draws the times at 1 thread as a bar chart (PNG, gnuplot).

Beside the per-case tables, the section has a table of the functional workloads (residual,
two_branch) with the spread over the rounds, and one of frost's MLPs written as functional chains
(peer frost_functional) against the same MLPs as sequential models (peer frost), with the ratio
of the medians and the range of the ratios of the rounds (each round ran the two one after the
other).

FLOP per step come from the benchmarks' own counters: FLOP/s divided by samples/s, times the
batch, which does not depend on which time a rate was computed with.

    scripts/bench_report.py --dir build/release/peers --doc docs/performance.md \\
        --png docs/performance_peers.png
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

PEER_ORDER = ["frost", "frost_functional", "eigen", "openblas", "torch", "dlib"]
PEER_LABEL = {"frost": "frost", "frost_functional": "frost, functional chain", "eigen": "Eigen",
              "openblas": "OpenBLAS (GEMMs only)", "torch": "libtorch", "dlib": "dlib"}
FUNCTIONAL = "frost_functional"
# Workloads after W1, W2, ...: the functional (DAG) models of bench/peers/workloads.hpp.
GRAPH_WORKLOADS = ["residual", "two_branch"]
CONFIG_ORDER = ["trainable", "frozen", "inference"]
VARIANT_LABEL = {"default": "as is", "passive": "OMP_WAIT_POLICY=PASSIVE"}
FLOOR = "openblas"
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"

FILE_RE = re.compile(r"r(\d+)_t(\d+)_([A-Za-z0-9_]+)_([A-Za-z0-9]+)\.json")
NAME_RE = re.compile(r"([A-Za-z][A-Za-z0-9_]*)/b(\d+)/([a-z]+)(?:/.*)?")
UNIT_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def workload_key(workload):
    """W1, W2, ... by number, then the functional workloads in their order, then the rest."""
    if re.fullmatch(r"W\d+", workload):
        return (0, int(workload[1:]), "")
    if workload in GRAPH_WORKLOADS:
        return (1, GRAPH_WORKLOADS.index(workload), "")
    return (2, 0, workload)


def case_key(case):
    workload, batch, config = case
    return (workload_key(workload), batch, CONFIG_ORDER.index(config) if config in CONFIG_ORDER else 99)


def peer_key(peer):
    return (PEER_ORDER.index(peer) if peer in PEER_ORDER else len(PEER_ORDER), peer)


def case_name(case):
    return f"{case[0]}/b{case[1]}/{case[2]}"


class Run:
    """All measurements of one run of the comparison."""

    def __init__(self, directory):
        self.times = {}      # (peer, threads, variant) -> {case: [µs per step, one per round]}
        self.by_round = {}   # (peer, threads, variant) -> {case: {round: µs per step}}
        self.flop = {}       # case -> {FLOP per step (rounded): [peers]}
        self.libraries = {}  # peer -> library string from the context
        self.dates = []
        self.loads = []      # 1-minute load average as each run started (Google Benchmark's context)
        self.rounds = set()
        self.warnings = []
        for entry in sorted(os.listdir(directory)):
            m = FILE_RE.fullmatch(entry)
            if not m:
                continue
            self._load(os.path.join(directory, entry), int(m.group(1)), int(m.group(2)), m.group(3), m.group(4))

    def _load(self, path, round_, threads, peer, variant):
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            self.warnings.append(f"{os.path.basename(path)}: unreadable ({e}), left out")
            return
        ctx = data.get("context", {})
        if ctx.get("peer", peer) != peer or int(ctx.get("threads", threads)) != threads:
            self.warnings.append(f"{os.path.basename(path)}: context says peer {ctx.get('peer')}, "
                                 f"threads {ctx.get('threads')}; the context is used")
            peer, threads = ctx.get("peer", peer), int(ctx.get("threads", threads))
        self.libraries.setdefault(peer, ctx.get("library", peer))
        if "date" in ctx:
            self.dates.append(ctx["date"])
        if ctx.get("load_avg"):
            self.loads.append(float(ctx["load_avg"][0]))
        self.rounds.add(round_)
        series = self.times.setdefault((peer, threads, variant), {})
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            m = NAME_RE.fullmatch(b["name"])
            if not m:
                continue
            case = (m.group(1), int(m.group(2)), m.group(3))
            t = b["cpu_time"] if threads == 1 else b["real_time"]
            series.setdefault(case, []).append(t * UNIT_US[b["time_unit"]])
            self.by_round.setdefault((peer, threads, variant), {}).setdefault(case, {})[round_] = \
                t * UNIT_US[b["time_unit"]]
            if b.get("samples"):
                per_step = round(b["FLOP"] / b["samples"] * case[1])
                self.flop.setdefault(case, {}).setdefault(per_step, []).append(peer)

    def peers(self):
        return sorted({p for p, _, _ in self.times}, key=peer_key)

    def threads(self):
        return sorted({t for _, t, _ in self.times})

    def cases(self):
        return sorted({c for s in self.times.values() for c in s}, key=case_key)

    def flop_per_step(self, case):
        counts = self.flop.get(case)
        if not counts:
            return None
        if len(counts) > 1:
            self.warnings.append(f"{case_name(case)}: the peers report different FLOP counts {sorted(counts)}")
        return max(counts, key=lambda k: len(counts[k]))

    def result(self, peer, threads, case):
        """(median µs, variant, rounds) of the best variant, or None."""
        best = None
        for (p, t, variant), series in self.times.items():
            if p != peer or t != threads or case not in series:
                continue
            med = statistics.median(series[case])
            if best is None or med < best[0]:
                best = (med, variant, len(series[case]))
        return best

    def variants(self, peer, threads):
        return sorted({v for p, t, v in self.times if p == peer and t == threads})

    def spread(self, peer, threads, case, variant):
        """(min, max) µs over the rounds of one variant, or None."""
        series = self.times.get((peer, threads, variant), {}).get(case)
        return (min(series), max(series)) if series else None

    def round_ratios(self, peer, base, threads, case):
        """time of `peer` / time of `base` in each round both ran (variant as is)."""
        a = self.by_round.get((peer, threads, "default"), {}).get(case, {})
        b = self.by_round.get((base, threads, "default"), {}).get(case, {})
        return [a[r] / b[r] for r in sorted(set(a) & set(b))]


# ---------------------------------------------------------------------------------------------
# Machine and build.

def command_output(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine():
    fields = {}
    for line in command_output(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    model = fields.get("Model name", "unknown CPU")
    try:
        cores = int(fields["Core(s) per socket"]) * int(fields["Socket(s)"])
        per_core = int(fields.get("Thread(s) per core", "1"))
        return f"{model}, {cores} cores, {per_core} thread(s) per core (lscpu)"
    except (KeyError, ValueError):
        return f"{model}, {fields.get('CPU(s)', '?')} CPUs (lscpu)"


def build_info(cache_path):
    cache = {}
    try:
        with open(cache_path) as f:
            for line in f:
                m = re.match(r"([A-Za-z_]+):[A-Z]+=(.*)", line.rstrip("\n"))
                if m:
                    cache[m.group(1)] = m.group(2)
    except OSError:
        pass
    compiler = cache.get("CMAKE_CXX_COMPILER", "g++")
    version = (command_output([compiler, "--version"]).splitlines() or [compiler])[0]
    build_type = cache.get("CMAKE_BUILD_TYPE", "Release")
    flags = " ".join(x for x in (cache.get("CMAKE_CXX_FLAGS_" + build_type.upper(), "-O3 -DNDEBUG"),
                                 cache.get("CMAKE_CXX_FLAGS", "-march=native")) if x)
    return version, flags


# ---------------------------------------------------------------------------------------------
# Markdown.

def fmt_us(us):
    return f"{us:,.1f}" if us < 10_000 else f"{us:,.0f}"


def rounds_note(n, rounds):
    return "" if rounds is None or n >= rounds else f" ({n} of {rounds} rounds)"


def section(run, args):
    peers, cases, all_threads = run.peers(), run.cases(), run.threads()
    version, flags = build_info(args.cache)
    out = []
    w = out.append

    duration = f", {args.seconds / 60:.1f} min for the comparison" if args.seconds is not None else ""
    n_rounds = len(run.rounds)
    w(f"Generated by `scripts/bench_report.py` from one run of `{args.command}`"
      f" ({n_rounds} round{'s' if n_rounds != 1 else ''}{duration}).")
    w("")
    date = min(run.dates) if run.dates else "unknown"
    w(f"- Date: {date.replace('T', ' ')}")
    w(f"- Machine: {machine()}")
    w(f"- Compiler: {version}; flags `{flags}` (`release` preset; frost in C++20, the other peers in C++17)")
    w("- Libraries: " + "; ".join(run.libraries[p] for p in peers))
    w("- Time per step: median over the rounds of one Google Benchmark run each (at least 0.2 s); "
      "CPU time at 1 thread, wall-clock time at 2 threads")
    if run.loads:
        w(f"- Load average (1 min) as each peer run started: median {statistics.median(run.loads):.2f}, "
          f"{min(run.loads):.2f}–{max(run.loads):.2f} (the runs themselves add about 1; more means "
          "other work shared the 2 cores)")
    w("")

    for threads in all_threads:
        w(f"### {threads} thread{'s' if threads > 1 else ''}")
        w("")
        has_floor = any(run.result(FLOOR, threads, c) for c in cases)
        has_frost = any(run.result("frost", threads, c) for c in cases)
        header = ["case", "peer", "µs per step", "samples/s", "GFLOP/s"]
        header += ["× OpenBLAS floor"] * has_floor + ["× frost"] * has_frost
        if threads > 1:
            header += ["speedup over 1 thread", "note"]
        w("| " + " | ".join(header) + " |")
        w("|---|---|" + "---:|" * (len(header) - 2 - (threads > 1)) + ("---|" if threads > 1 else ""))
        for case in cases:
            flop = run.flop_per_step(case)
            floor = run.result(FLOOR, threads, case)
            frost = run.result("frost", threads, case)
            first = True
            for peer in peers:
                label = f"**{case_name(case)}**" if first else ""
                r = run.result(peer, threads, case)
                if r is None:
                    continue
                us, variant, n = r
                cells = [label, PEER_LABEL.get(peer, peer), fmt_us(us) + rounds_note(n, args.rounds),
                         f"{case[1] / us * 1e6:,.0f}",
                         f"{flop / us / 1e3:.1f}" if flop else ""]
                if has_floor:
                    cells.append(f"{us / floor[0]:.2f}" if floor else "")
                if has_frost:
                    cells.append(f"{us / frost[0]:.2f}" if frost else "")
                if threads > 1:
                    one = run.result(peer, 1, case)
                    cells.append(f"{one[0] / us:.2f}" if one else "")
                    cells.append(VARIANT_LABEL.get(variant, variant) if len(run.variants(peer, threads)) > 1 else "")
                w("| " + " | ".join(cells) + " |")
                first = False
        w("")

    # Frozen against trainable, per workload and batch.
    rows = []
    groups = sorted({(c[0], c[1]) for c in cases}, key=lambda g: (workload_key(g[0]), g[1]))
    for workload, batch in groups:
        trainable, frozen = (workload, batch, "trainable"), (workload, batch, "frozen")
        ft, ff = run.flop_per_step(trainable), run.flop_per_step(frozen)
        if not (ft and ff):
            continue
        for threads in all_threads:
            cells = [f"{workload}/b{batch}", str(threads), f"{ff / ft:.3f}"]
            for peer in peers:
                t, f = run.result(peer, threads, trainable), run.result(peer, threads, frozen)
                if t and f:
                    cells.append(f"{f[0] / t[0]:.3f}")
                else:
                    cells.append("")
            rows.append("| " + " | ".join(cells) + " |")
    if rows:
        w("### Frozen step against trainable step")
        w("")
        w("Time of the `frozen` step divided by time of the `trainable` step, beside the ratio of "
          "their FLOP counts (the ideal if time followed the products alone):")
        w("")
        w("| workload | threads | ideal FLOP ratio | " + " | ".join(PEER_LABEL.get(p, p) for p in peers) + " |")
        w("|---|---:|---:|" + "---:|" * len(peers))
        out.extend(rows)
        w("")

    graph_cases = [c for c in cases if c[0] in GRAPH_WORKLOADS]
    if graph_cases:
        w("### Functional models: residual and two-branch")
        w("")
        w("`residual`: 784 → dense 512 relu → 2 × [dense 512 relu, added to its input] → dense 10 softmax; "
          "`two_branch`: dense 512 relu → dense 256 relu on 784 features (branch A, frozen in `frozen`) "
          "and dense 128 relu on 64 features, concatenated, dense 10 softmax; batch 128. Median and "
          "range (min–max) over the rounds:")
        w("")
        w("| case | threads | peer | µs per step (median) | min–max over rounds | GFLOP/s | × OpenBLAS floor | × frost |")
        w("|---|---:|---|---:|---:|---:|---:|---:|")
        for case in graph_cases:
            flop = run.flop_per_step(case)
            for threads in all_threads:
                floor = run.result(FLOOR, threads, case)
                frost = run.result("frost", threads, case)
                first = True
                for peer in peers:
                    r = run.result(peer, threads, case)
                    if r is None:
                        continue
                    us, variant, n = r
                    lo, hi = run.spread(peer, threads, case, variant)
                    label = f"**{case_name(case)}**" if first else ""
                    note = f" ({VARIANT_LABEL.get(variant, variant)})" if len(run.variants(peer, threads)) > 1 else ""
                    cells = [label, str(threads) if first else "", PEER_LABEL.get(peer, peer) + note,
                             fmt_us(us) + rounds_note(n, args.rounds), f"{fmt_us(lo)}–{fmt_us(hi)}",
                             f"{flop / us / 1e3:.1f}" if flop else "",
                             f"{us / floor[0]:.2f}" if floor else "",
                             f"{us / frost[0]:.2f}" if frost else ""]
                    w("| " + " | ".join(cells) + " |")
                    first = False
        w("")

    chain_rows = []
    for case in cases:
        for threads in all_threads:
            seq, fn = run.result("frost", threads, case), run.result(FUNCTIONAL, threads, case)
            if not (seq and fn):
                continue
            ratios = run.round_ratios(FUNCTIONAL, "frost", threads, case)
            s_lo, s_hi = run.spread("frost", threads, case, seq[1])
            f_lo, f_hi = run.spread(FUNCTIONAL, threads, case, fn[1])
            chain_rows.append("| " + " | ".join([
                case_name(case), str(threads),
                f"{fmt_us(seq[0])} ({fmt_us(s_lo)}–{fmt_us(s_hi)})",
                f"{fmt_us(fn[0])} ({fmt_us(f_lo)}–{fmt_us(f_hi)})",
                f"{fn[0] / seq[0]:.3f}",
                f"{min(ratios):.3f}–{max(ratios):.3f}" if ratios else "",
                str(len(ratios))]) + " |")
    if chain_rows:
        w("### Functional chain against sequential")
        w("")
        w("frost's MLPs written as functional chains of the same layers "
          "(`make_model(in, dense<...>{}(...(in)))`, peer `frost_functional`) against the same "
          "MLPs as `sequential<...>` (peer `frost`). Medians with min–max over the rounds; the ratio "
          "functional / sequential of the medians, and the range of the ratios of the rounds (in "
          "each round the two ran one after the other):")
        w("")
        w("| case | threads | sequential µs | functional µs | ratio of medians | ratio per round, min–max | rounds |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        out.extend(chain_rows)
        w("")

    if args.png:
        w(f"![µs per step at 1 thread, log scale, one group per case, one bar per peer]"
          f"({os.path.basename(args.png)})")
        w("")
    w("Columns: samples/s = batch / time; GFLOP/s = FLOP per step / time, FLOP per step being the "
      "benchmarks' count of the step's matrix products (`bench/peers/workloads.hpp`); × OpenBLAS floor = time / the OpenBLAS time at "
      "the same thread count; × frost = time / frost's time (above 1: slower than frost); speedup "
      "= time at 1 thread / time at 2 threads (frost: a trainer made with `threads{2}`).")
    if args.skipped.split():
        w("")
        w("Not run (not built on this machine): " + ", ".join(args.skipped.split()) + ".")
    failed = [f.strip() for f in args.failed.split(";") if f.strip()]
    if failed:
        w("")
        w("Failed runs, left out: " + "; ".join(failed) + ".")
    for warning in run.warnings:
        w("")
        w(f"Warning: {warning}")
    return "\n".join(out) + "\n"


NEW_SECTION = """## frost and its peers

The workloads of `bench/peers/` (W1 100-64-32-10 at batch 32 and 256, W2 784-512-512-10 at batch
128, W3 1024-1024-1024-1024-10 at batch 256; `trainable`, `frozen` and `inference` steps) timed
with frost, Eigen, libtorch and dlib, and with OpenBLAS running only the step's matrix products
as a floor; two functional models at batch 128, `residual` and `two_branch` (a frozen branch),
timed with frost, libtorch and the OpenBLAS floor; and frost's MLPs written a second time as
functional chains of the same layers (`frost, functional chain`).
[`bench/peers/README.md`](../bench/peers/README.md) describes each peer, the models and the FLOP
count.

After its own benchmark, `scripts/bench` runs every peer executable that is built, in rounds:
per round, each peer once at 1 thread, then each peer once at 2 threads (`FROST_BENCH_THREADS`),
always in the same order, so that noise on the shared machine falls on all of them alike. frost
runs at 2 threads as a trainer made with `threads{2}`. libtorch runs twice at 2 threads, as is and with
`OMP_WAIT_POLICY=PASSIVE`, and the faster of the two counts. `FROST_BENCH_ROUNDS` sets the number
of rounds (default 3), `FROST_BENCH_FILTER` a benchmark filter and `FROST_BENCH_PEERS` the peers
(default `frost frost_functional eigen openblas torch dlib`). The JSON goes to `build/release/peers/`, and
`scripts/bench_report.py` writes the text between the markers below and the chart from it;
each run of `scripts/bench` replaces both.

{begin}
{end}
"""


def update_doc(path, text):
    with open(path) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        # After the introduction: before the first second-level heading.
        m = re.search(r"^## ", doc, re.M)
        new = NEW_SECTION.format(begin=BEGIN, end=END)
        doc = doc[:m.start()] + new + "\n" + doc[m.start():] if m else doc.rstrip("\n") + "\n\n" + new
    start = doc.index(BEGIN) + len(BEGIN)
    end = doc.index(END, start)
    doc = doc[:start] + "\n" + text + doc[end:]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Chart.

def gp_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def chart(run, png):
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        print("bench_report: gnuplot not found, no chart", file=sys.stderr)
        return False
    peers = [p for p in run.peers() if any(run.result(p, 1, c) for c in run.cases())]
    cases = [c for c in run.cases() if any(run.result(p, 1, c) for p in peers)]
    if not peers or not cases:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "peers.dat")
        with open(data, "w") as f:
            for case in cases:
                values = []
                for p in peers:
                    r = run.result(p, 1, case)
                    values.append(f"{r[0]:.3f}" if r else "?")
                f.write(f'"{case_name(case)}" ' + " ".join(values) + "\n")
        plots = ", ".join(
            f"{gp_quote(data)} using {i + 2}:xtic(1) title {gp_quote(PEER_LABEL.get(p, p))}"
            for i, p in enumerate(peers))
        script = f"""
set terminal pngcairo noenhanced size 1600,700 font "DejaVu Sans,11"
set output {gp_quote(png + '.tmp')}
set title "Time per training or inference step, 1 thread (median over rounds; lower is better)"
set ylabel "µs per step (log scale)"
set logscale y
set format y "%g"
set grid ytics mytics
set datafile missing "?"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set key outside top center horizontal samplen 2
set rmargin 14
set yrange [*:*]
plot {plots}
"""
        result = subprocess.run([gnuplot], input=script, capture_output=True, text=True)
        if result.returncode != 0 or not os.path.exists(png + ".tmp"):
            print("bench_report: gnuplot failed:\n" + result.stderr, file=sys.stderr)
            return False
        os.replace(png + ".tmp", png)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default="build/release/peers", help="directory of the JSON files")
    ap.add_argument("--doc", help="markdown page whose section between the markers is replaced")
    ap.add_argument("--png", help="bar chart to write (gnuplot)")
    ap.add_argument("--command", default="scripts/bench", help="the command that produced the run")
    ap.add_argument("--rounds", type=int, help="rounds the run was meant to have (notes cases with fewer)")
    ap.add_argument("--seconds", type=float, help="duration of the comparison, for the report")
    ap.add_argument("--cache", default="build/release/CMakeCache.txt", help="CMakeCache.txt of the build")
    ap.add_argument("--skipped", default="", help="peers that were not run (not built), space-separated")
    ap.add_argument("--failed", default="", help="runs that failed, separated by ';'")
    args = ap.parse_args()

    run = Run(args.dir)
    if not run.cases():
        print(f"bench_report: no peer results in {args.dir}", file=sys.stderr)
        return 1
    if args.png and not chart(run, args.png):
        args.png = None
    text = section(run, args)
    print(text)
    if args.doc:
        update_doc(args.doc, text)
        print(f"bench_report: updated {args.doc}" + (f" and {args.png}" if args.png else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
