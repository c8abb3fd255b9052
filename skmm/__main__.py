"""Command line: ``skmm benchmark [options]`` (also ``python -m skmm benchmark``).

Exit status: 0 on success; 2 for a usage error or unusable data (argparse's convention,
one ``error:`` line on stderr); 1 when a method fails during the run.
"""

import argparse
import sys
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

NPZ_LAYOUT = (
    "a .npz archive written by numpy.savez(FILE, <modality>=<2-D array>, ..., y=<labels>): "
    "one numeric 2-D array (n_samples, n_features) per modality, rows of NaN where a "
    "modality is missing, and a 1-D array 'y' of n_samples class labels"
)


# How to write the file, in error messages (the full description is in NPZ_LAYOUT).
NPZ_HINT = (
    "write it with numpy.savez(FILE, <modality>=<2-D array>, ..., y=<1-D labels>) "
    "(see --help)"
)


class _DataError(ValueError):
    """Unusable input data: one line on stderr and exit status 2."""


def _load_npz(path):
    """Read ``FILE.npz`` (one 2-D array per modality and a 1-D ``y``), never unpickling.

    Parameters
    ----------
    path : pathlib.Path
        The file given to ``--data``.

    Returns
    -------
    X : MultiModalData
    y : ndarray

    Raises
    ------
    _DataError
        The file is absent, not an .npz archive (a .npy, text or pickle file), holds
        members that are not numeric arrays, has no ``y`` or no modality, or its
        modalities are malformed.
    """
    from ._data import MultiModalData

    if not path.exists():
        raise _DataError(f"--data {path}: no such file.")
    if path.is_dir():
        raise _DataError(f"--data {path} is a folder, not a file; {NPZ_HINT}.")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise _DataError(f"--data {path}: cannot read the file ({exc.strerror}).") from None
    if magic == b"\x93NUMPY":
        raise _DataError(
            f"--data {path} is a .npy file (a single array), not a .npz archive; "
            f"{NPZ_HINT}."
        )
    if not zipfile.is_zipfile(path):
        # np.load would offer to unpickle it (allow_pickle=True): never do that.
        raise _DataError(
            f"--data {path} is not a valid .npz archive (not a zip file: text, a pickle "
            f"or another format renamed .npz?); {NPZ_HINT}."
        )
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
        not_arrays = [m for m in members if not m.endswith(".npy")]
        if not_arrays:
            raise _DataError(
                f"--data {path} is a zip archive but not a valid .npz: members "
                f"{not_arrays[:3]} are not .npy arrays; {NPZ_HINT}."
            )
        arrays = {}
        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                try:
                    arrays[key] = archive[key]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise _DataError(
                        f"--data {path}: array {key!r} holds Python objects "
                        "(dtype=object), which skmm never unpickles; save it as a "
                        "numeric array, e.g. np.asarray(a, dtype=float) (labels may also "
                        "be integers or strings)."
                    ) from None
    except _DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise _DataError(
            f"--data {path} is not a valid .npz archive ({type(exc).__name__}: {exc}); "
            f"{NPZ_HINT}."
        ) from None
    if "y" not in arrays:
        raise _DataError(
            f"--data {path} has no array named 'y' (the labels); it holds "
            f"{sorted(arrays)}. {NPZ_HINT}."
        )
    y = arrays.pop("y")
    if not arrays:
        raise _DataError(
            f"--data {path} holds no modality arrays besides 'y'; {NPZ_HINT}."
        )
    try:
        return MultiModalData(arrays), y
    except (TypeError, ValueError) as exc:
        raise _DataError(f"--data {path}: {exc}") from None


def _bounded(kind, low=None, high=None, *, high_open=False, exclude=(), what=""):
    """An argparse ``type`` converting to ``kind`` and checking the bounds."""

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}; got {text!r}"
            ) from None
        too_low = low is not None and value < low
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high or value in exclude or value != value:
            raise argparse.ArgumentTypeError(f"must be {what}; got {text}")
        return value

    return convert


def _parser(prog="skmm"):
    from . import __version__
    from .benchmark import METHODS, QUICK_METHODS
    from .datasets import BENCHMARK_DATASETS

    parser = argparse.ArgumentParser(
        prog=prog, description="skmm: multimodal learning with missing modalities.",
        epilog="Exit status: 0 on success, 2 for bad options or unusable data, 1 when a "
        "method fails.",
    )
    parser.add_argument("--version", action="version", version=f"skmm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{benchmark}")
    bench = sub.add_parser(
        "benchmark",
        help="compare skmm's estimators with the usual baselines, side by side",
        description="Cross-validated comparison on a bundled data set (--dataset, "
        "default mfeat) or your own (--data).",
        epilog=f"--data FILE.npz: {NPZ_LAYOUT}. Rows already missing in the file stay "
        "missing; the benchmark hides observed rows on top and reports the share missing "
        "in the file, the share it hid and the total. Exit status: 0 on success, 2 for "
        "bad options or unusable data, 1 when a method fails.",
    )
    source = bench.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, metavar="FILE.npz",
                        help="your data: one 2-D array per modality + y (see below)")
    source.add_argument("--dataset", choices=list(BENCHMARK_DATASETS), default=None,
                        metavar="NAME",
                        help="a bundled data set, among "
                        f"{', '.join(BENCHMARK_DATASETS)} (default mfeat, the UCI "
                        "Multiple Features digits); not with --data")
    bench.add_argument(
        "--missing-rate", type=_bounded(float, 0.0, 1.0, high_open=True, what="in [0, 1)"),
        nargs="+", default=None, metavar="RATE",
        help="chance that each observed modality row is hidden (one or several; default "
        "0.5, or 0.3 0.5 0.7 without --quick)",
    )
    bench.add_argument(
        "--pattern", default="mcar", choices=["mcar", "standard"],
        help="mcar: every modality slot hidden at random with the rate; standard: one "
        "modality (--complete-modality, default the first) always observed, the others "
        "hidden with the rate",
    )
    bench.add_argument(
        "--task", default="auto", choices=["auto", "classification", "regression"],
        help="classify y (accuracy) or regress on it (R^2); auto: regression for a "
        "continuous target or floats with more than 20 distinct values",
    )
    bench.add_argument("--complete-modality", default=None, metavar="NAME",
                       help="the modality kept by --pattern standard")
    bench.add_argument("--cv", type=_bounded(int, 2, what="an integer >= 2"), default=None,
                       metavar="N", help="folds (default 5; 3 with --quick)")
    bench.add_argument(
        "--estimators", default=None, metavar="LIST",
        help=f"comma-separated methods among {','.join(METHODS)} (default: a set that "
        f"runs quickly: {','.join(QUICK_METHODS)}; 'all' for every method)",
    )
    bench.add_argument("--epochs", type=_bounded(int, 1, what="an integer >= 1"),
                       default=None, metavar="N",
                       help="training epochs of the embedders "
                            "(default: their own; 20 with --quick)")
    bench.add_argument("--random-state", type=_bounded(int, 0, 2**32 - 1,
                                                       what="an integer in [0, 2**32 - 1]"),
                       default=0, metavar="SEED",
                       help="seed of the masking, the folds and the methods (default 0)")
    bench.add_argument("--quick", action="store_true",
                       help="small models, one rate, 3 folds")
    bench.add_argument("--out", type=Path, default=Path("skmm_benchmark"), metavar="DIR",
                       help="output folder (default skmm_benchmark)")
    bench.add_argument("--n-jobs", type=_bounded(int, exclude=(0,),
                                                 what="a non-zero integer (-1: all cores)"),
                       default=1, metavar="N",
                       help="parallel folds (joblib; -1: all cores)")
    return parser, bench


def _fail(parser, message):
    """One ``prog: error: message`` line on stderr, exit status 2 (as argparse)."""
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _cli_message(message, data):
    """Word a :func:`~skmm.benchmark.check_benchmark_data` error for the command line."""
    if message.startswith("complete_modality "):
        return "--complete-modality " + message[len("complete_modality "):]
    if message.startswith("cv="):
        return "--cv " + message[len("cv="):]
    return message if data is None else f"--data {data}: {message}"


def _shares_line(observed, modalities):
    """``a 33.3%, b 0.0% of the samples (16.7% of all modality rows)``."""
    from .benchmark import missing_shares

    overall, by_modality = missing_shares(
        observed, np.zeros_like(observed), modalities
    )
    per = ", ".join(f"{m} {s['in_data']:.1%}" for m, s in by_modality.items())
    return f"{per} of the samples ({overall['in_data']:.1%} of all modality rows)"


def main(argv=None, *, prog="skmm"):
    """Entry point of the ``skmm`` script and of ``python -m skmm``.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (default: ``sys.argv[1:]``).
    prog : str, default="skmm"
        The program name shown in help and messages (``"python -m skmm"`` when run
        as a module).

    Returns
    -------
    int
        0 on success, 1 when a method fails during the run (usage errors and unusable
        data raise ``SystemExit(2)`` after one ``error:`` line on stderr).
    """
    parser, bench = _parser(prog)
    args = parser.parse_args(argv)
    from .benchmark import (
        METHODS, QUICK_METHODS, TASKS, benchmark_task, check_benchmark_data, format_missing,
        format_table, run_benchmark, save_figure, write_results,
    )

    if args.estimators in (None, ""):
        methods = list(QUICK_METHODS)
    elif args.estimators == "all":
        methods = list(METHODS)
    else:
        methods = [m.strip() for m in args.estimators.split(",") if m.strip()]
        unknown = [m for m in methods if m not in METHODS]
        if not methods:
            bench.error(f"--estimators {args.estimators!r} names no method; choose from "
                        f"{', '.join(METHODS)}")
        if unknown:
            bench.error(f"unknown estimators {unknown}; choose from {', '.join(METHODS)}")
    if args.complete_modality is not None and args.pattern != "standard":
        bench.error(
            f"--complete-modality {args.complete_modality} needs --pattern standard "
            f"(got --pattern {args.pattern})"
        )
    rates = args.missing_rate or ([0.5] if args.quick else [0.3, 0.5, 0.7])
    cv = args.cv or (3 if args.quick else 5)
    if args.out.exists() and not args.out.is_dir():
        _fail(bench, f"--out {args.out} is a file; give a folder (created if absent).")

    if args.data is None:
        from .datasets import BENCHMARK_DATASETS

        name = args.dataset or "mfeat"
        loader = BENCHMARK_DATASETS[name]
        X, y = loader(return_X_y=True)
        func = getattr(loader, "func", loader)  # a partial fixes some options
        keywords = getattr(loader, "keywords", {})
        options = ", ".join(f"{k}={v!r}" for k, v in keywords.items())
        source = f"bundled data set {name} (skmm.datasets.{func.__name__}({options}))"
    else:
        try:
            X, y = _load_npz(args.data)
        except _DataError as exc:
            _fail(bench, str(exc))
        source = str(args.data)
    try:
        X, y, complete = check_benchmark_data(
            X, y, cv=cv, pattern=args.pattern, complete_modality=args.complete_modality,
            task=args.task,
        )
    except (TypeError, ValueError) as exc:
        _fail(bench, _cli_message(str(exc), args.data))
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(bench, f"--out {args.out}: cannot create the folder ({exc.strerror}).")

    print(f"data: {source}: {X.n_samples} samples, modalities {X.n_features}")
    observed = X.observed
    if not observed.all():
        print(f"already missing in the data: {_shares_line(observed, X.modalities)}")
    kept = None if complete is None else observed[:, X.modalities.index(complete)]
    if kept is not None and not kept.all():
        share = 1 - kept.mean()
        print(f"note: --pattern standard hides nothing of {complete!r}, but the data "
              f"already miss it in {share:.1%} of the samples")
    print(f"methods: {', '.join(methods)}; missing rates {rates} ({args.pattern}; each "
          f"observed modality row hidden with that chance); {cv}-fold CV", flush=True)
    task = benchmark_task(y, args.task)
    print(f"task: {task} (scored by {TASKS[task]})")

    classes, counts = np.unique(y, return_counts=True)
    if task == "classification" and counts.min() < cv:
        small = classes[counts < cv][:3].tolist()
        print(f"note: classes {small} have fewer samples than the {cv} folds (smallest: "
              f"{counts.min()}); some test folds miss them", file=sys.stderr)

    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # Said once above, in the benchmark's words.
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            results = run_benchmark(
                X, y, methods=methods, missing_rates=rates, pattern=args.pattern,
                complete_modality=complete, cv=cv, task=args.task,
                random_state=args.random_state, quick=args.quick, max_epochs=args.epochs,
                n_jobs=args.n_jobs,
                progress=lambda msg: print(f"  {msg}", file=sys.stderr, flush=True),
            )
    except ValueError as exc:
        print(f"{bench.prog}: error: a method failed: {exc}", file=sys.stderr)
        return 1
    print()
    print(format_table(results))
    print("rate: chance an observed modality row was hidden; missing: share of all "
          "modality rows missing (in the data + hidden)")
    if not observed.all() or args.pattern == "standard":
        print("\nmissing modality rows, share of the samples:")
        print(format_missing(results))
    csv_path, json_path = write_results(results, args.out, data=args.dataset or args.data
                                        or "mfeat")
    print(f"\nresults: {csv_path}, {json_path}")
    try:
        figure = save_figure(results, args.out / "benchmark.png")
        print(f"figure: {figure}")
    except ImportError:
        print("figure: skipped (matplotlib is not installed: pip install 'skmm[plot]')")
    print(f"total time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m skmm"))
