"""What every topic's figures share: a matplotlib figure that touches no global state, its
file names, the running mean of a noisy curve, and drawing every run record of a folder.

Needs matplotlib (``pip install -e '.[plot]'``), imported only inside these
functions and only through its object interface (``matplotlib.figure.Figure``), so
drawing changes no global state and importing this module needs no matplotlib.  Every
figure is meant for a slide and a greyscale print: lines differ in style and marker as
well as colour; symbols are mathtext (``$\\eta_Z$``); legends sit outside the data
(:func:`legend`); a parameter grid with uneven steps is drawn on a categorical axis
that says so (:func:`categorical_axis`) or on a log axis whose label says so; a signed
matrix uses a diverging colour map centred at 0 (:func:`signed_image`); a spread over
seeds is named only when there is more than one seed (:func:`over_seeds`); axes say
their units; each title names the paper and figure; and every figure has a
one-paragraph caption, computed from its run record and written beside it
(``stem.caption.md``, :func:`save`), which the book shows under the figure.

The drawers themselves live in each topic's ``figures`` module; nothing is trained there.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from ._validate import array, finite_scalar, flag, function, positive_int
from .records import read_record

__all__ = ["LINESTYLES", "DIVERGING", "have_matplotlib", "figure", "save", "smooth", "legend", "categorical_axis",
           "signed_image", "over_seeds", "draw_records"]

LINESTYLES = ("-", "--", ":", "-.")                      # told apart in greyscale too
DIVERGING = "RdBu_r"                                     # signed values: blue < 0 < red, white at 0


def _directory(name: str, path, what: str = "an existing directory") -> Path:
    if not isinstance(path, (str, os.PathLike)) or not Path(path).is_dir():
        raise ValueError(f"{name} must be {what}; got {path!r}")
    return Path(path)


def have_matplotlib() -> bool:
    """True if matplotlib can be imported (the ``plot`` extra)."""
    import importlib.util
    return importlib.util.find_spec("matplotlib") is not None


def figure(width: float, height: float):
    """A ``matplotlib.figure.Figure`` of ``width`` × ``height`` inches, 120 dpi, constrained layout."""
    width, height = finite_scalar("width", width, positive=True), finite_scalar("height", height, positive=True)
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=120, layout="constrained")


def save(fig, out_dir, stem: str, pdf: bool, caption: str) -> list:
    """Write ``out_dir/stem.png`` (and ``.pdf`` with ``pdf``) and the figure's caption, one
    paragraph, to ``out_dir/stem.caption.md``; the paths written."""
    if not callable(getattr(fig, "savefig", None)):
        raise ValueError(f"fig must be a matplotlib Figure (see figure()); got {type(fig).__name__}")
    out_dir = _directory("out_dir", out_dir)
    if not isinstance(stem, str) or not stem or "/" in stem or os.sep in stem:
        raise ValueError(f"stem must be a file name without a folder or suffix; got {stem!r}")
    pdf = flag("pdf", pdf)
    if not isinstance(caption, str) or not caption.strip() or "\n\n" in caption.strip():
        raise ValueError(f"caption must be one non-empty paragraph; got {caption!r:.80}")
    paths = [out_dir / f"{stem}.png"]
    fig.savefig(paths[0])
    if pdf:
        paths.append(out_dir / f"{stem}.pdf")
        fig.savefig(paths[1])
    paths.append(out_dir / f"{stem}.caption.md")
    paths[-1].write_text(" ".join(caption.split()) + "\n", encoding="utf-8")
    return paths


def smooth(y, window: int = 50):
    """Running mean over ``window`` steps (the per-step loss of a fresh batch is noisy):
    ``(means, steps)``, each mean placed at the last step of its window."""
    y = array("y", y, ndim=1)
    w = min(positive_int("window", window), len(y))
    return np.convolve(y, np.ones(w) / w, mode="valid"), np.arange(w - 1, len(y))


def legend(ax, *, ncols: int = 2) -> None:
    """A small legend below the axes (never over the data) and a light grid."""
    if not callable(getattr(ax, "legend", None)) or not callable(getattr(ax, "grid", None)):
        raise ValueError(f"ax must be a matplotlib Axes; got {type(ax).__name__}")
    ncols = positive_int("ncols", ncols)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=ncols, frameon=False)
    ax.grid(alpha=0.3)


def categorical_axis(ax, values, label: str) -> np.ndarray:
    """Put ``values`` (a grid with uneven steps) at evenly spaced ticks 0, 1, … and say so
    in the axis label; returns the positions to plot at."""
    if not callable(getattr(ax, "set_xticks", None)):
        raise ValueError(f"ax must be a matplotlib Axes; got {type(ax).__name__}")
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"values must be a non-empty list of the grid's values; got {values!r:.60}")
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be the parameter's name; got {label!r:.60}")
    x = np.arange(len(values))
    ax.set_xticks(x, [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in values])
    ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_xlabel(f"{label} (categorical axis)")
    return x


def signed_image(ax, M, *, lim: float | None = None):
    """A heat map of a signed matrix: the diverging :data:`DIVERGING` map, centred at 0
    (white), symmetric limits ``±lim`` (default: the largest absolute entry); the image."""
    if not callable(getattr(ax, "imshow", None)):
        raise ValueError(f"ax must be a matplotlib Axes; got {type(ax).__name__}")
    M = array("M", M, ndim=2)
    lim = float(np.abs(M).max()) if lim is None else finite_scalar("lim", lim, positive=True)
    lim = lim if lim > 0 else 1.0
    return ax.imshow(M, cmap=DIVERGING, vmin=-lim, vmax=lim)


def over_seeds(seeds: int, what: str = "mean and min–max") -> str:
    """``", mean and min–max over 3 seeds"`` — or nothing for one seed, where there is no
    spread to name."""
    seeds = positive_int("seeds", seeds)
    if not isinstance(what, str) or not what:
        raise ValueError(f"what must name the statistic; got {what!r:.40}")
    return f", {what} over {seeds} seeds" if seeds > 1 else ", one seed"


def draw_records(records_dir, drawer_for: Callable[[str], Callable | None], *, pdf: bool = False) -> list:
    """Draw the figures of every run record (``*.json``) in ``records_dir``, beside them.

    ``drawer_for(name)`` gives the drawer of a record's name (``draw(record, out_dir,
    pdf=...) -> paths``) or None; a record nobody draws is refused with ``ValueError``.
    ``theory.draw_all`` calls this with every topic's drawers."""
    d = _directory("records_dir", records_dir, "a directory of run records")
    function("drawer_for", drawer_for)
    pdf = flag("pdf", pdf)
    records = sorted(p for p in d.glob("*.json") if not p.name.startswith("."))
    if not records:
        raise ValueError(f"{d} holds no run records (*.json); write one with "
                         f"`python -m theory reproduce NAME --out {d}`")
    paths = []
    for p in records:
        record = read_record(p)
        draw = drawer_for(record["name"])
        if draw is None:
            raise ValueError(f"{p}: no figures are defined for the {record['name']!r} reproduction")
        paths += draw(record, d, pdf=pdf)
    return paths
