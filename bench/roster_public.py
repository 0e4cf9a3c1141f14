"""Benchmark: the 24 Curtois & Qu shift scheduling instances (issue 5, public benchmark).

    .venv/bin/python bench/roster_public.py [--seconds 60] [--long] [--instances 1-10,13]
        [--baseline-seconds 10] [--seed 0] [--data DIR] [--out-dir bench/out/rosters]

For each instance: the engine (greedy → per-person repair → CP-SAT with hint → LNS) for ``--seconds``
(600 s on 13–24 with ``--long``), its roster written as a file and re-checked by the INDEPENDENT
evaluator of ``muster.roster.benchmark_io`` (hard violations, objective); the ratio to the best known
value; the time to the first feasible roster. Baselines in the same run: the greedy construction alone
(evaluated the same way) and a plain CP-SAT model without hint or LNS for ``--baseline-seconds``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from engine_options import add_set_flag, overrides  # noqa: E402
from muster.roster import benchmark_io as bio  # noqa: E402
from muster.roster.engine import Options, solve  # noqa: E402

DATA = ROOT.parent / "shared" / "benchmarks" / "shift-scheduling"


def parse_ids(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def run_one(inst: bio.Instance, opts: Options, out: Path | None) -> dict[str, object]:
    t0 = time.monotonic()
    res = solve(bio.to_problem(inst), opts)
    wall = time.monotonic() - t0
    roster = bio.roster_from_assignments(inst, res.assignments)
    if out is not None:
        bio.write_roster(inst, roster, out)
        roster = bio.read_roster(inst, out)
    ev = bio.evaluate(inst, roster)
    return {
        "hard": len(ev.violations),
        "objective": ev.objective,
        "engine_objective": res.objective,
        "first": res.time_to_first_feasible,
        "wall": wall,
        "status": res.status,
    }


def fmt(x: object, nd: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--long", action="store_true", help="600 s on instances 13-24")
    ap.add_argument("--instances", default="1-24")
    ap.add_argument("--baseline-seconds", type=float, default=10)
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out-dir", default=str(ROOT / "bench" / "out" / "rosters"))
    add_set_flag(ap)
    args = ap.parse_args()
    chosen = overrides(ap, args.set)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"# engine {args.seconds:g} s/instance{' (600 s on 13-24)' if args.long else ''}, seed {args.seed}"
        f"{' ' + ' '.join(args.set) if args.set else ''}; "
        f"baselines: greedy alone, plain CP-SAT {args.baseline_seconds:g} s (no hint, no LNS)"
    )
    head = (
        f"{'inst':>4} {'best':>6} | {'hard':>4} {'obj':>7} {'ratio':>6} {'1st(s)':>6} {'wall':>5} "
        f"{'status':>8} | {'greedy':>7} {'g.hard':>6} {'g.ratio':>7} | {'plain':>7} {'p.hard':>6} "
        f"{'p.ratio':>7} {'p.1st':>5}"
    )
    print(head, flush=True)
    for n in parse_ids(args.instances):
        inst = bio.read_instance(Path(args.data) / f"Instance{n}.txt")
        best = bio.BEST_KNOWN[n]
        secs = 600 if (args.long and n >= 13) else args.seconds
        opts = Options(seconds=secs, seed=args.seed, **chosen)  # type: ignore[arg-type]
        eng = run_one(inst, opts, out_dir / f"Instance{n}.roster")
        assert eng["objective"] == eng["engine_objective"] or eng["hard"], "engine and evaluator disagree"
        g: dict[str, object] = {}
        pl: dict[str, object] = {}
        if not args.no_baselines:
            g = run_one(inst, Options(seconds=args.baseline_seconds, seed=args.seed, cpsat=False), None)
            pl = (
                {}
                if n >= 20
                else run_one(
                    inst,
                    Options(
                        seconds=args.baseline_seconds,
                        seed=args.seed,
                        greedy=False,
                        hint=False,
                        lns=False,
                        full_model_max_vars=10**9,
                    ),
                    None,
                )
            )

        def ratio(r: dict[str, object], best: int = best) -> str:
            if not r or r.get("hard"):
                return "-"
            return f"{int(r['objective']) / best:.3f}"  # type: ignore[call-overload]

        print(
            f"{n:>4} {best:>6} | {eng['hard']:>4} {eng['objective']:>7} {ratio(eng):>6} "
            f"{fmt(eng['first']):>6} {fmt(eng['wall'], 0):>5} {eng['status']!s:>8} | "
            f"{fmt(g.get('objective')):>7} {fmt(g.get('hard')):>6} {ratio(g):>7} | "
            f"{fmt(pl.get('objective')):>7} {fmt(pl.get('hard')):>6} {ratio(pl):>7} "
            f"{fmt(pl.get('first')):>5}",
            flush=True,
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
