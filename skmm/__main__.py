"""Command line: ``python -m skmm benchmark [options]`` (also the ``skmm`` script)."""

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _load_npz(path):
    """``FILE.npz`` with one 2-D array per modality and a 1-D ``y``."""
    from ._data import MultiModalData

    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: cannot read {path}: {exc}") from None
    with archive:
        if "y" not in archive.files:
            raise SystemExit(f"error: {path} has no array named 'y' (the labels).")
        y = archive["y"]
        arrays = {k: archive[k] for k in archive.files if k != "y"}
    if not arrays:
        raise SystemExit(f"error: {path} holds no modality arrays besides 'y'.")
    try:
        return MultiModalData(arrays), y
    except (TypeError, ValueError) as exc:
        raise SystemExit(f"error: {path}: {exc}") from None


def _parser():
    from .benchmark import METHODS, QUICK_METHODS

    parser = argparse.ArgumentParser(
        prog="python -m skmm", description="skmm: multimodal learning with missing modalities."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser(
        "benchmark",
        help="compare skmm's estimators with the usual baselines, side by side",
        description="Cross-validated comparison on the bundled mfeat data or your own.",
    )
    bench.add_argument("--data", type=Path, help="FILE.npz: one array per modality + y")
    bench.add_argument(
        "--missing-rate", type=float, nargs="+", default=None,
        help="share of modality slots hidden (one or several; default 0.5, or "
        "0.3 0.5 0.7 without --quick)",
    )
    bench.add_argument(
        "--pattern", default="mcar", choices=["mcar", "standard"],
        help="mcar: every modality slot hidden at random with the rate; standard: one "
        "modality (--complete-modality, default the first) always observed, the others "
        "hidden with the rate",
    )
    bench.add_argument("--complete-modality", default=None,
                       help="the modality kept by --pattern standard")
    bench.add_argument("--cv", type=int, default=None, help="folds (default 5; 3 with --quick)")
    bench.add_argument(
        "--estimators", default=None,
        help=f"comma-separated methods among {','.join(METHODS)} (default: a set that "
        f"runs quickly: {','.join(QUICK_METHODS)}; 'all' for every method)",
    )
    bench.add_argument("--epochs", type=int, default=None,
                       help="training epochs of the embedders (default: their own; 20 with --quick)")
    bench.add_argument("--random-state", type=int, default=0)
    bench.add_argument("--quick", action="store_true", help="small models, one rate, 3 folds")
    bench.add_argument("--out", type=Path, default=Path("skmm_benchmark"), help="output folder")
    bench.add_argument("--n-jobs", type=int, default=1, help="parallel folds (joblib)")
    return parser


def main(argv=None):
    """Entry point of ``python -m skmm``."""
    parser = _parser()
    args = parser.parse_args(argv)
    from .benchmark import (
        METHODS, QUICK_METHODS, format_table, run_benchmark, save_figure, write_results,
    )

    if args.estimators in (None, ""):
        methods = list(QUICK_METHODS)
    elif args.estimators == "all":
        methods = list(METHODS)
    else:
        methods = [m.strip() for m in args.estimators.split(",") if m.strip()]
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            parser.error(f"unknown estimators {unknown}; choose from {', '.join(METHODS)}")
    rates = args.missing_rate or ([0.5] if args.quick else [0.3, 0.5, 0.7])
    if any(not 0.0 <= r < 1.0 for r in rates):
        parser.error(f"--missing-rate values must be in [0, 1); got {rates}")
    cv = args.cv or (3 if args.quick else 5)
    if cv < 2:
        parser.error("--cv must be at least 2")
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1; got {args.epochs}")

    if args.data is None:
        from .datasets import load_multiple_features

        X, y = load_multiple_features(return_X_y=True)
        source = "bundled UCI Multiple Features (mfeat)"
    else:
        X, y = _load_npz(args.data)
        source = str(args.data)
    print(f"data: {source}: {X.n_samples} samples, modalities {X.n_features}")
    print(f"methods: {', '.join(methods)}; missing rates {rates} ({args.pattern}); "
          f"{cv}-fold CV", flush=True)

    start = time.perf_counter()
    try:
        results = run_benchmark(
            X, y, methods=methods, missing_rates=rates, pattern=args.pattern,
            complete_modality=args.complete_modality, cv=cv,
            random_state=args.random_state, quick=args.quick, max_epochs=args.epochs,
            n_jobs=args.n_jobs,
            progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True),
        )
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print()
    print(format_table(results))
    csv_path, json_path = write_results(results, args.out)
    print(f"\nresults: {csv_path}, {json_path}")
    try:
        figure = save_figure(results, args.out / "benchmark.png")
        print(f"figure: {figure}")
    except ImportError:
        print("figure: skipped (matplotlib is not installed: pip install 'skmm[plot]')")
    print(f"total time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
