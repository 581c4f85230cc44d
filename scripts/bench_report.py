#!/usr/bin/env python3
"""Report of the peers comparison that scripts/bench runs (python3 standard library only).

Reads the Google Benchmark JSON files of one run of frost and its peers (bench/peers/), named
r<round>_t<threads>_<peer>_<variant>.json, and the quiet check's quiet.tsv beside them, and

  - drops the contaminated rounds: a (round, thread count) in which any peer run found other
    processes using more CPU than the threshold (before it started, after waiting, or during
    it) is left out of every median and ratio, and counted; if every round of a thread count is
    contaminated, all of them are kept and the report says so;
  - takes, per (peer, threads, case), the median over the kept rounds of the time per step, with
    its min and max: CPU time at 1 thread, wall-clock time at more (the peers time wall clock
    there, see bench/peers/README.md); for a peer run in several variants (libtorch at 2
    threads, as is and with OMP_WAIT_POLICY=PASSIVE; Eigen as is and with subnormal numbers
    flushed to zero, FROST_PEER_FLUSH_SUBNORMALS=1) the variant with the lower median is kept
    and named;
  - computes every ratio (× OpenBLAS floor, × frost, speedup over 1 thread, frozen over
    trainable, functional over sequential) per round, from two times measured in the same
    round, and gives the median of those ratios with their min and max;
  - compares each peer's training loss after the same number of steps (the counter "loss",
    bench/peers/workloads.hpp) with frost's, where both start from the same weights and data,
    and flags a difference above LOSS_RTOL·|frost| + LOSS_ATOL;
  - marks the OpenBLAS floor where its 2-thread time is not below its 1-thread time;
  - writes a markdown section between the markers <!-- peers:begin --> and <!-- peers:end --> of
    the documentation page (adding a section "## frost and its peers" after the page's
    introduction when the markers are missing), and prints it;
  - draws the times at 1 thread as a bar chart (PNG, gnuplot).

FLOP per step come from the benchmarks' own counters: FLOP/s divided by samples/s, times the
batch, which does not depend on which time a rate was computed with.

    scripts/bench_report.py --dir build/release/peers --doc docs/performance.md \\
        --png docs/performance_peers.png
    scripts/bench_report.py --dir bench/peers/results/2026-12-02-c72ee91   # print only
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
VARIANT_LABEL = {"default": "as is", "passive": "OMP_WAIT_POLICY=PASSIVE",
                 "flush": "subnormals flushed to zero"}
FLOOR = "openblas"
FLOOR_NOT_SCALING = "OpenBLAS's own threading, does not scale here"
BEGIN, END = "<!-- peers:begin -->", "<!-- peers:end -->"
MIN_TIMED_STEPS = 20  # bench/peers/workloads.hpp, min_timed_steps

# The loss cross-check: a peer's loss differs from frost's when |loss - frost| > LOSS_RTOL·|frost|
# + LOSS_ATOL. Measured at frost d71e8a8 (loss of step 23, 1 thread, every training case):
# - where the loss is still of order 1, correct implementations differ by at most 1.3e-4
#   relative: libtorch and dlib against frost and Eigen (Adam's epsilon sits after the bias
#   correction in libtorch and is 1e-8 in dlib; float sums are ordered differently); frost and
#   Eigen agreed to 1e-7. A learning rate 10 % off moves that loss by 1.0 % (W1/b256), 2.8 %
#   (W1/b32) and 13 % (W1/b1); freezing two layers by 31 % (W1/b32). 5e-4 relative is 4 times the
#   largest difference between correct implementations and a twentieth of the smallest effect of
#   that learning-rate error;
# - where the network has memorized its batch (W2, W3, residual and two_branch trainable: loss
#   1e-7 to 3e-3), the epsilons' placement moves the loss by up to 1.8 % relative, a few 1e-6
#   absolute, and float32 resolves -log(p) near p = 1 only to about 1e-7: the 1e-4 absolute term
#   covers that, and there the check says only that both peers memorized the batch.
LOSS_RTOL = 5e-4
LOSS_ATOL = 1e-4
MEMORIZED = 1e-3  # frost's loss below this: the batch is memorized, the absolute term decides

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


class Result:
    """One (peer, threads, case) over the kept rounds: {round: µs} of the chosen variant."""

    def __init__(self, variant, times):
        self.variant = variant
        self.times = times
        values = list(times.values())
        self.median = statistics.median(values)
        self.lo, self.hi = min(values), max(values)
        self.n = len(values)


class Run:
    """All measurements of one run of the comparison."""

    def __init__(self, directory):
        self.by_round = {}   # (peer, threads, variant) -> {case: {round: µs per step}}
        self.losses = {}     # (peer, threads, variant) -> {case: {round: loss}}
        self.loss_step = {}  # peer -> the step whose loss the peer reports (context)
        self.initial = {}    # peer -> the initial weights and data it starts from (context)
        self.flop = {}       # case -> {FLOP per step (rounded): [peers]}
        self.libraries = {}  # peer -> library string from the context
        self.dates = []
        self.loads = []      # 1-minute load average as each run started (Google Benchmark's context)
        self.rounds = {}     # threads -> set of rounds with results
        self.warnings = []
        self.few_steps = []  # (file, case, timed steps) of cases timed over fewer than MIN_TIMED_STEPS
        self.quiet_settings = None  # the quiet check's settings, from quiet.tsv
        self.contaminated = {}      # (round, threads) -> [(peer, cores before, cores during, reason)]
        self.runs_per_round = {}    # (round, threads) -> peer runs the quiet check recorded
        self.quiet_runs = 0         # peer runs the quiet check recorded
        self.protocol = set()       # (warm-up steps, minimum timed steps) of the runs; None: not recorded
        for entry in sorted(os.listdir(directory)):
            m = FILE_RE.fullmatch(entry)
            if not m:
                continue
            self._load(os.path.join(directory, entry), int(m.group(1)), int(m.group(2)), m.group(3), m.group(4))
        self._load_quiet(os.path.join(directory, "quiet.tsv"))
        self.all_contaminated = set()  # thread counts whose rounds were all contaminated (all kept)
        self.kept = {}
        for threads, rounds in self.rounds.items():
            kept = {r for r in rounds if (r, threads) not in self.contaminated}
            if not kept:
                self.all_contaminated.add(threads)
                kept = set(rounds)
            self.kept[threads] = kept

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
        if "min_timed_steps" in ctx:
            self.protocol.add((int(ctx.get("warmup_steps", 0)), int(ctx["min_timed_steps"])))
        else:
            self.protocol.add(None)
        if "loss_step" in ctx:
            self.loss_step.setdefault(peer, int(ctx["loss_step"]))
        if "initial_state" in ctx:
            self.initial.setdefault(peer, ctx["initial_state"])
        if "date" in ctx:
            self.dates.append(ctx["date"])
        if ctx.get("load_avg"):
            self.loads.append(float(ctx["load_avg"][0]))
        self.rounds.setdefault(threads, set()).add(round_)
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            m = NAME_RE.fullmatch(b["name"])
            if not m:
                continue
            case = (m.group(1), int(m.group(2)), m.group(3))
            t = b["cpu_time"] if threads == 1 else b["real_time"]
            self.by_round.setdefault((peer, threads, variant), {}).setdefault(case, {})[round_] = \
                t * UNIT_US[b["time_unit"]]
            if "loss" in b:
                self.losses.setdefault((peer, threads, variant), {}).setdefault(case, {})[round_] = float(b["loss"])
            if b.get("iterations", MIN_TIMED_STEPS) < MIN_TIMED_STEPS:
                self.few_steps.append((os.path.basename(path), case_name(case), b["iterations"]))
            if b.get("samples"):
                per_step = round(b["FLOP"] / b["samples"] * case[1])
                self.flop.setdefault(case, {}).setdefault(per_step, []).append(peer)

    def _load_quiet(self, path):
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            return
        header = None
        for line in lines:
            if line.startswith("#"):
                self.quiet_settings = dict(kv.split("=", 1) for kv in line[1:].split() if "=" in kv)
                continue
            fields = line.split("\t")
            if header is None:
                header = fields
                continue
            row = dict(zip(header, fields))
            try:
                round_, threads = int(row["round"]), int(row["threads"])
            except (KeyError, ValueError):
                continue
            self.quiet_runs += 1
            self.runs_per_round[(round_, threads)] = self.runs_per_round.get((round_, threads), 0) + 1
            if row.get("status") == "contaminated":
                def cores(key):
                    try:
                        return float(row.get(key, ""))
                    except ValueError:
                        return 0.0
                self.contaminated.setdefault((round_, threads), []).append(
                    (row.get("peer", "?"), cores("before_cores"), cores("during_cores"), row.get("reason", "")))

    def peers(self):
        return sorted({p for p, _, _ in self.by_round}, key=peer_key)

    def threads(self):
        return sorted({t for _, t, _ in self.by_round})

    def cases(self):
        return sorted({c for s in self.by_round.values() for c in s}, key=case_key)

    def flop_per_step(self, case):
        counts = self.flop.get(case)
        if not counts:
            return None
        if len(counts) > 1:
            warning = f"{case_name(case)}: the peers report different FLOP counts {sorted(counts)}"
            if warning not in self.warnings:
                self.warnings.append(warning)
        return max(counts, key=lambda k: len(counts[k]))

    def kept_times(self, peer, threads, variant, case):
        series = self.by_round.get((peer, threads, variant), {}).get(case, {})
        kept = self.kept.get(threads, set())
        return {r: t for r, t in series.items() if r in kept}

    def result(self, peer, threads, case):
        """The Result of the variant with the lower median over the kept rounds, or None."""
        best = None
        for (p, t, variant) in self.by_round:
            if p != peer or t != threads:
                continue
            times = self.kept_times(peer, threads, variant, case)
            if times:
                r = Result(variant, times)
                if best is None or r.median < best.median:
                    best = r
        return best

    def variants(self, peer, threads):
        return sorted({v for p, t, v in self.by_round if p == peer and t == threads})

    def ratios(self, a, b):
        """a / b per round, for the rounds both Results have (each measured in that round)."""
        if a is None or b is None:
            return []
        return [a.times[r] / b.times[r] for r in sorted(set(a.times) & set(b.times))]

    def loss(self, peer, threads, case):
        """(median loss over all rounds, min, max) of the variant as is, or None. The loss does not
        depend on the machine's load, so contaminated rounds count here."""
        values = list(self.losses.get((peer, threads, "default"), {}).get(case, {}).values())
        if not values:
            return None
        return statistics.median(values), min(values), max(values)

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
    # Below 1 µs (batch-1 inference) one decimal would hide a 1.5× difference.
    if us < 1:
        return f"{us:.2f}"
    return f"{us:,.1f}" if us < 10_000 else f"{us:,.0f}"


def fmt_time(r):
    """'13.8 (13.1–14.6)': median, then min–max over the kept rounds."""
    if r.n < 2:
        return fmt_us(r.median)
    return f"{fmt_us(r.median)} ({fmt_us(r.lo)}–{fmt_us(r.hi)})"


def fmt_ratio(ratios, digits=2):
    """Median of per-round ratios, then their min–max."""
    if not ratios:
        return ""
    med = statistics.median(ratios)
    if len(ratios) < 2:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(ratios):.{digits}f}–{max(ratios):.{digits}f})"


def rounds_note(n, kept):
    return "" if n >= kept else f" [{n} of {kept} rounds]"


def loss_differs(loss, reference):
    return abs(loss - reference) > LOSS_RTOL * abs(reference) + LOSS_ATOL


def fmt_loss(x):
    return f"{x:.6g}"


def contamination(run, round_, threads):
    """'round 2: 3 of 7 runs, other processes at up to 1.02 cores before a run, 0.98 during'."""
    marks = run.contaminated[(round_, threads)]
    before = max((b for _, b, _, r in marks if "before" in r), default=None)
    during = max((d for _, _, d, r in marks if "during" in r), default=None)
    where = [f"{before:.2f} cores before a run (after waiting)"] if before is not None else []
    where += [f"{during:.2f} during one"] if during is not None else []
    return (f"round {round_}: {len(marks)} of {run.runs_per_round.get((round_, threads), len(marks))} runs, "
            "other processes at up to " + ", ".join(where))


def rounds_line(run, threads):
    rounds = run.rounds.get(threads, set())
    kept = run.kept.get(threads, set())
    label = f"{threads} thread{'s' if threads > 1 else ''}"
    if threads in run.all_contaminated:
        return (f"{label}: rounds: all {len(rounds)} contaminated, so all kept: these medians are of a busy "
                "machine (" + "; ".join(contamination(run, r, threads) for r in sorted(rounds)) + ")")
    dropped = sorted(rounds - kept)
    text = f"{label}: rounds: {len(kept)} kept, {len(dropped)} dropped as contaminated"
    if dropped:
        text += " (" + "; ".join(contamination(run, r, threads) for r in dropped) + ")"
    return text


def section(run, args):
    peers, cases, all_threads = run.peers(), run.cases(), run.threads()
    version, flags = build_info(args.cache)
    out = []
    w = out.append

    duration = f", {args.seconds / 60:.1f} min for the comparison" if args.seconds is not None else ""
    n_rounds = len(set().union(*run.rounds.values())) if run.rounds else 0
    w(f"Generated by `scripts/bench_report.py` from one run of `{args.command}`"
      f" ({n_rounds} round{'s' if n_rounds != 1 else ''}{duration}).")
    w("")
    date = min(run.dates) if run.dates else "unknown"
    w(f"- Date: {date.replace('T', ' ')}")
    if args.tree:
        w(f"- frost at: {args.tree}")
    w(f"- Machine: {machine()}")
    w(f"- Compiler: {version}; flags `{flags}` (`release` preset; frost in C++20, the other peers in C++17)")
    w("- Libraries: " + "; ".join(run.libraries[p] for p in peers))
    if args.results:
        w(f"- Raw output: [`{args.results.rstrip('/')}/`](../{args.results.rstrip('/')}/) (every peer run's "
          "Google Benchmark JSON, the quiet check's `quiet.tsv`, the console log)")
    if len(run.protocol) == 1 and None not in run.protocol:
        warmup, floor_steps = next(iter(run.protocol))
        protocol = (f"each case runs {warmup} untimed warm-up steps, then at least {floor_steps} timed "
                    "steps and at least 0.2 s (Google Benchmark's minimum time)")
    elif None in run.protocol:
        protocol = ("the peer executables of this run predate the warm-up steps and the floor of "
                    f"{MIN_TIMED_STEPS} timed steps (at least 0.2 s per case only)")
    else:
        protocol = "the peers ran with different warm-up and step floors: " + ", ".join(
            f"{a} warm-up, at least {b} timed" for a, b in sorted(run.protocol))
    w(f"- Time per step: median over the kept rounds, (min–max) beside it; CPU time at 1 thread, "
      f"wall-clock time at 2 threads; {protocol}")
    w("- Ratios (× OpenBLAS floor, × frost, speedup, frozen/trainable): computed in each round from "
      "the two times of that round, then the median over the kept rounds, (min–max) beside it")
    if run.quiet_settings is not None:
        q = run.quiet_settings
        w(f"- Quiet check: before each peer process the machine's CPU use over {q.get('sample_s', '0.5')} s "
          f"(`/proc/stat`), waiting up to {q.get('wait_s', '?')} s for it to fall to {q.get('threshold_cores', '?')} "
          "cores or less, and the other processes' CPU use during the run (the machine's busy time minus "
          "the peer's own); a round (per thread count) with any run above "
          f"{q.get('threshold_cores', '?')} cores is contaminated and left out")
        for threads in all_threads:
            w(f"  - {rounds_line(run, threads)}")
    else:
        w("- Quiet check: not recorded for this run (no `quiet.tsv`); every round is kept")
    if run.loads:
        w(f"- Load average (1 min) as each peer run started: median {statistics.median(run.loads):.2f}, "
          f"{min(run.loads):.2f}–{max(run.loads):.2f} (the runs themselves add about 1; more means "
          "other work shared the 2 cores)")
    w("")

    floor_not_scaling = set()  # cases where the 2-thread floor is not faster than the 1-thread one
    for case in cases:
        ratios = run.ratios(run.result(FLOOR, 1, case), run.result(FLOOR, 2, case))
        if ratios and statistics.median(ratios) <= 1.0:
            floor_not_scaling.add(case)

    for threads in all_threads:
        kept = len(run.kept.get(threads, ()))
        w(f"### {threads} thread{'s' if threads > 1 else ''}")
        w("")
        has_floor = any(run.result(FLOOR, threads, c) for c in cases)
        has_frost = any(run.result("frost", threads, c) for c in cases)
        header = ["case", "peer", "µs per step (min–max)", "samples/s", "GFLOP/s"]
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
                r = run.result(peer, threads, case)
                if r is None:
                    continue
                label = f"**{case_name(case)}**" if first else ""
                cells = [label, PEER_LABEL.get(peer, peer), fmt_time(r) + rounds_note(r.n, kept),
                         f"{case[1] / r.median * 1e6:,.0f}",
                         f"{flop / r.median / 1e3:.1f}" if flop else ""]
                if has_floor:
                    cells.append("1.00" if peer == FLOOR else fmt_ratio(run.ratios(r, floor)))
                if has_frost:
                    cells.append("1.00" if peer == "frost" else fmt_ratio(run.ratios(r, frost)))
                if threads > 1:
                    cells.append(fmt_ratio(run.ratios(run.result(peer, 1, case), r)))
                    notes = []
                    if len(run.variants(peer, threads)) > 1:
                        notes.append(VARIANT_LABEL.get(r.variant, r.variant))
                    if peer == FLOOR and case in floor_not_scaling:
                        notes.append(FLOOR_NOT_SCALING)
                    cells.append("; ".join(notes))
                w("| " + " | ".join(cells) + " |")
                first = False
        w("")

    # The loss cross-check.
    loss_peers = [p for p in peers if any(run.losses.get((p, t, "default")) for t in all_threads)]
    no_loss = [p for p in peers if p not in loss_peers]
    check_rows, flagged = [], []
    frost_initial = run.initial.get("frost")
    for case in cases:
        for threads in all_threads:
            ref = run.loss("frost", threads, case)
            if ref is None:
                continue
            cells = [case_name(case), str(threads), fmt_loss(ref[0])]
            bad = []
            for peer in loss_peers:
                if peer == "frost":
                    continue
                lo = run.loss(peer, threads, case)
                if lo is None:
                    cells.append("")
                    continue
                if run.initial.get(peer) != frost_initial or run.loss_step.get(peer) != run.loss_step.get("frost"):
                    cells.append(f"{fmt_loss(lo[0])} (not comparable: other initial weights, data or step)")
                    continue
                diff = lo[0] - ref[0]
                rel = diff / abs(ref[0]) if ref[0] else float("inf") if diff else 0.0
                cell = f"{fmt_loss(lo[0])} ({rel:+.1e})"
                if loss_differs(lo[0], ref[0]):
                    cell = f"**{cell}**"
                    bad.append(PEER_LABEL.get(peer, peer))
                if loss_differs(lo[2], lo[1]):
                    cell += " (varies over rounds)"
                cells.append(cell)
            if loss_differs(ref[2], ref[1]):
                cells[2] += " (varies over rounds)"
            memorized = abs(ref[0]) < MEMORIZED
            verdict = ("**differs: " + ", ".join(bad) + "**") if bad else \
                ("ok (memorized: absolute check only)" if memorized else "ok")
            if bad:
                flagged.append(f"{case_name(case)} at {threads} thread{'s' if threads > 1 else ''}: " + ", ".join(bad))
            cells.append(verdict)
            check_rows.append("| " + " | ".join(cells) + " |")
    if check_rows:
        step = run.loss_step.get("frost", MIN_TIMED_STEPS + 3)
        w("### Cross-check: the training loss after the same steps")
        w("")
        w(f"The loss each peer's step {step} computed (3 warm-up steps, then the {step - 3}th timed step) "
          "from the same initial weights and data (glorot_uniform, zero biases, the generator's inputs and "
          "labels: `bench/peers/workloads.hpp`), against frost's; in parentheses the relative difference. "
          f"A peer differs when |loss − frost| > {LOSS_RTOL:g}·|frost| + {LOSS_ATOL:g} (bold; the tolerance is "
          "justified in `scripts/bench_report.py`): correct implementations differed by at most 1.3e-4 "
          "relative where the loss is of order 1 (Adam's epsilon is placed differently in libtorch and is "
          "1e-8 in dlib), and a learning rate 10 % off moves it by 1 % or more. Below a loss of "
          f"{MEMORIZED:g} the network has memorized its batch and only the absolute term applies. The median "
          "over all rounds (the loss does not depend on the machine's load).")
        w("")
        w("| case | threads | frost | " + " | ".join(PEER_LABEL.get(p, p) for p in loss_peers if p != "frost")
          + " | check |")
        w("|---|---:|---:|" + "---:|" * (len(loss_peers) - 1) + "---|")
        out.extend(check_rows)
        w("")
        notes = []
        if no_loss:
            notes.append(", ".join(PEER_LABEL.get(p, p) for p in no_loss) +
                         ": no loss (the floor runs only the products)" if no_loss == [FLOOR] else
                         ": no loss reported")
        notes.append("flagged: " + "; ".join(flagged) if flagged else
                     "no peer's loss differs from frost's beyond the tolerance")
        w("Cross-check: " + ". ".join(notes) + ".")
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
                ratios = run.ratios(run.result(peer, threads, frozen), run.result(peer, threads, trainable))
                cells.append(f"{statistics.median(ratios):.3f}" if ratios else "")
            rows.append("| " + " | ".join(cells) + " |")
    if rows:
        w("### Frozen step against trainable step")
        w("")
        w("Time of the `frozen` step divided by time of the `trainable` step (the median of the ratios "
          "of the kept rounds), beside the ratio of their FLOP counts (the ideal if time followed the "
          "products alone):")
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
          "range (min–max) over the kept rounds; ratios per round:")
        w("")
        w("| case | threads | peer | µs per step (median) | min–max over rounds | GFLOP/s | × OpenBLAS floor | × frost |")
        w("|---|---:|---|---:|---:|---:|---:|---:|")
        for case in graph_cases:
            flop = run.flop_per_step(case)
            for threads in all_threads:
                kept = len(run.kept.get(threads, ()))
                floor = run.result(FLOOR, threads, case)
                frost = run.result("frost", threads, case)
                first = True
                for peer in peers:
                    r = run.result(peer, threads, case)
                    if r is None:
                        continue
                    label = f"**{case_name(case)}**" if first else ""
                    note = f" ({VARIANT_LABEL.get(r.variant, r.variant)})" if len(run.variants(peer, threads)) > 1 else ""
                    cells = [label, str(threads) if first else "", PEER_LABEL.get(peer, peer) + note,
                             fmt_us(r.median) + rounds_note(r.n, kept), f"{fmt_us(r.lo)}–{fmt_us(r.hi)}",
                             f"{flop / r.median / 1e3:.1f}" if flop else "",
                             "1.00" if peer == FLOOR else fmt_ratio(run.ratios(r, floor)),
                             "1.00" if peer == "frost" else fmt_ratio(run.ratios(r, frost))]
                    w("| " + " | ".join(cells) + " |")
                    first = False
        w("")

    chain_rows = []
    for case in cases:
        for threads in all_threads:
            seq, fn = run.result("frost", threads, case), run.result(FUNCTIONAL, threads, case)
            if not (seq and fn):
                continue
            ratios = run.ratios(fn, seq)
            chain_rows.append("| " + " | ".join([
                case_name(case), str(threads), fmt_time(seq), fmt_time(fn),
                f"{fn.median / seq.median:.3f}",
                f"{statistics.median(ratios):.3f}" if ratios else "",
                f"{min(ratios):.3f}–{max(ratios):.3f}" if ratios else "",
                str(len(ratios))]) + " |")
    if chain_rows:
        w("### Functional chain against sequential")
        w("")
        w("frost's MLPs written as functional chains of the same layers "
          "(`make_model(in, dense<...>{}(...(in)))`, peer `frost_functional`) against the same "
          "MLPs as `sequential<...>` (peer `frost`). Medians with min–max over the kept rounds; the "
          "ratio functional / sequential of the medians, and the median and range of the ratios of "
          "the rounds (in each round the two ran one after the other):")
        w("")
        w("| case | threads | sequential µs | functional µs | ratio of medians | ratio per round, median | min–max | rounds |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|")
        out.extend(chain_rows)
        w("")

    if args.png:
        w(f"![µs per step at 1 thread, log scale, one group per case, one bar per peer]"
          f"({os.path.basename(args.png)})")
        w("")
    w("Columns: samples/s = batch / time; GFLOP/s = FLOP per step / time, FLOP per step being the "
      "benchmarks' count of the step's matrix products (`bench/peers/workloads.hpp`); × OpenBLAS floor = time / the OpenBLAS time at "
      "the same thread count; × frost = time / frost's time (above 1: slower than frost); speedup "
      "= time at 1 thread / time at 2 threads (frost: a trainer made with `threads{2}`). "
      f"\"{FLOOR_NOT_SCALING}\": the OpenBLAS floor at 2 threads was not faster than at 1 thread "
      "(median of the per-round ratios at most 1), so × OpenBLAS floor at 2 threads compares with a "
      "floor that does not use the second core.")
    if args.skipped.split():
        w("")
        w("Not run (not built on this machine): " + ", ".join(args.skipped.split()) + ".")
    failed = [f.strip() for f in args.failed.split(";") if f.strip()]
    if failed:
        w("")
        w("Failed runs, left out: " + "; ".join(failed) + ".")
    if run.few_steps:
        w("")
        w(f"Warning: timed over fewer than {MIN_TIMED_STEPS} steps: " +
          "; ".join(f"{c} in {f} ({n})" for f, c, n in run.few_steps) + ".")
    for warning in run.warnings:
        w("")
        w(f"Warning: {warning}")
    return "\n".join(out) + "\n"


NEW_SECTION = """## frost and its peers

The workloads of `bench/peers/` (W1 100-64-32-10 at batch 1, 32 and 256, W2 784-512-512-10 at batch
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
(default `frost frost_functional eigen openblas torch dlib`). Every case runs 3 untimed warm-up
steps and at least 20 timed ones; before each peer process a quiet check waits for the machine to
be idle, and rounds in which it was not are left out (`FROST_BENCH_QUIET`,
`FROST_BENCH_QUIET_WAIT`). The JSON goes to `build/release/peers/` and is copied to
`bench/peers/results/<date>-<commit>/`, and `scripts/bench_report.py` writes the text between the
markers below and the chart from it; each run of `scripts/bench` replaces both.

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
                    values.append(f"{r.median:.3f}" if r else "?")
                f.write(f'"{case_name(case)}" ' + " ".join(values) + "\n")
        plots = ", ".join(
            f"{gp_quote(data)} using {i + 2}:xtic(1) title {gp_quote(PEER_LABEL.get(p, p))}"
            for i, p in enumerate(peers))
        script = f"""
set terminal pngcairo noenhanced size 1600,700 font "DejaVu Sans,11"
set output {gp_quote(png + '.tmp')}
set title "Time per training or inference step, 1 thread (median over the kept rounds; lower is better)"
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
    ap.add_argument("--rounds", type=int, help="rounds the run was meant to have (unused: the kept rounds count)")
    ap.add_argument("--seconds", type=float, help="duration of the comparison, for the report")
    ap.add_argument("--cache", default="build/release/CMakeCache.txt", help="CMakeCache.txt of the build")
    ap.add_argument("--skipped", default="", help="peers that were not run (not built), space-separated")
    ap.add_argument("--failed", default="", help="runs that failed, separated by ';'")
    ap.add_argument("--results", default="", help="folder the raw output was copied to, named in the report")
    ap.add_argument("--tree", default="", help="the commit frost was at (and whether the tree had changes)")
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
