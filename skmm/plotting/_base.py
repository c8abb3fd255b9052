"""Shared helper: import matplotlib with a clear error when it is missing."""


def import_pyplot():
    """Return ``matplotlib.pyplot`` or raise an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skmm.plotting needs matplotlib: pip install 'skmm[plot]' (or matplotlib)."
        ) from exc
    return plt


def axes_or_new(ax, **subplot_kw):
    """Return ``(figure, ax)``, creating a figure when ``ax`` is None."""
    plt = import_pyplot()
    if ax is None:
        fig, ax = plt.subplots(**subplot_kw)
    return ax.figure, ax
