"""Versions of Python, skmm and its dependencies, for bug reports.

Like :func:`sklearn.show_versions`. Versions are read from the installed packages'
metadata, so that calling :func:`show_versions` (let alone importing skmm) does not import
pandas, matplotlib or dask; torch is imported only when it is installed, to say whether
CUDA or MPS is available.
"""

import platform
import sys
from importlib import metadata

# (name shown, distribution name), in the order printed.
_DEPENDENCIES = (
    ("pip", "pip"),
    ("setuptools", "setuptools"),
    ("numpy", "numpy"),
    ("scipy", "scipy"),
    ("scikit-learn", "scikit-learn"),
    ("joblib", "joblib"),
    ("threadpoolctl", "threadpoolctl"),
    ("torch", "torch"),
    ("pandas", "pandas"),
    ("matplotlib", "matplotlib"),
    ("dask", "dask"),
    ("distributed", "distributed"),
)


def _get_sys_info():
    """Return ``{"python", "executable", "machine"}`` of the running interpreter.

    Returns
    -------
    sys_info : dict of str
    """
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _get_deps_info():
    """Return ``{name: version}`` of skmm and its dependencies, ``None`` when absent.

    The versions come from :mod:`importlib.metadata`: nothing is imported.

    Returns
    -------
    deps_info : dict of str or None
    """
    from .. import __version__

    info = {"skmm": __version__}
    for name, dist in _DEPENDENCIES:
        try:
            info[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[name] = None
    return info


def _get_torch_info():
    """Return torch's accelerators and thread count, or ``{}`` when torch is absent.

    Imports torch (only when it is installed).

    Returns
    -------
    torch_info : dict
        ``"CUDA available"``, ``"CUDA version"`` (the CUDA torch was built with, ``None``
        for a CPU build), ``"MPS available"`` and ``"threads"``
        (:func:`torch.get_num_threads`).
    """
    try:
        metadata.version("torch")
    except metadata.PackageNotFoundError:
        return {}
    try:
        import torch
    except Exception as exc:  # a broken install is worth reporting, not raising
        return {"import error": f"{type(exc).__name__}: {exc}"}
    mps = getattr(torch.backends, "mps", None)
    return {
        "CUDA available": torch.cuda.is_available(),
        "CUDA version": torch.version.cuda,
        "MPS available": bool(mps is not None and mps.is_available()),
        "threads": torch.get_num_threads(),
    }


def _get_threadpool_info():
    """Return threadpoolctl's list of the loaded BLAS and OpenMP libraries.

    Returns
    -------
    threadpool_info : list of dict
        Empty when threadpoolctl is not installed.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return threadpool_info()


def _print_block(title, info):
    if title:
        print(f"\n{title}:")
    else:
        print()
    width = max((len(k) for k in info), default=0)
    for key, value in info.items():
        print(f"{key:>{width + 4}}: {value}")


def show_versions():
    """Print versions useful in a bug report: Python, the machine, skmm, dependencies.

    Prints the Python version and executable, the platform, the versions of skmm and of
    numpy, scipy, scikit-learn, joblib, threadpoolctl, torch, pandas, matplotlib and dask
    (``None`` when not installed), whether torch sees CUDA or MPS and how many threads it
    uses, and threadpoolctl's description of the loaded BLAS and OpenMP libraries.

    Versions are read from the package metadata; only torch is imported (when installed),
    to ask about its accelerators. ``skmm --version`` prints skmm's version alone.

    See Also
    --------
    sklearn.show_versions : The same report for scikit-learn.

    Examples
    --------
    >>> import skmm
    >>> skmm.show_versions()  # doctest: +SKIP
    """
    _print_block("System", _get_sys_info())
    _print_block("Python dependencies", _get_deps_info())
    torch_info = _get_torch_info()
    if torch_info:
        _print_block("torch", torch_info)
    for i, library in enumerate(_get_threadpool_info()):
        # One block per library, under a single title, as scikit-learn prints them.
        _print_block("threadpoolctl info" if i == 0 else None, library)
