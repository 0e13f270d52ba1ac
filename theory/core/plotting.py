"""What every topic's figures share: a matplotlib figure that touches no global state, its
file names, the running mean of a noisy curve, and drawing every run record of a folder.

Needs matplotlib (``pip install 'icl-theory[plot]'``), imported only inside these
functions and only through its object interface (``matplotlib.figure.Figure``), so
drawing changes no global state and importing this module needs no matplotlib.  Every
figure is meant for a slide and a greyscale print: lines differ in style and marker as
well as colour, heat maps use a colour map whose lightness rises monotonically
(viridis), axes say their units, and each title names the paper and figure.

The drawers themselves live in each topic's ``figures`` module; nothing is trained there.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from ._validate import array, finite_scalar, flag, function, positive_int
from .records import read_record

__all__ = ["LINESTYLES", "have_matplotlib", "figure", "save", "smooth", "legend", "draw_records"]

LINESTYLES = ("-", "--", ":", "-.")                      # told apart in greyscale too


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


def save(fig, out_dir, stem: str, pdf: bool) -> list:
    """Write ``out_dir/stem.png`` (and ``.pdf`` with ``pdf``); the paths written."""
    if not callable(getattr(fig, "savefig", None)):
        raise ValueError(f"fig must be a matplotlib Figure (see figure()); got {type(fig).__name__}")
    out_dir = _directory("out_dir", out_dir)
    if not isinstance(stem, str) or not stem or "/" in stem or os.sep in stem:
        raise ValueError(f"stem must be a file name without a folder or suffix; got {stem!r}")
    pdf = flag("pdf", pdf)
    paths = [out_dir / f"{stem}.png"]
    fig.savefig(paths[0])
    if pdf:
        paths.append(out_dir / f"{stem}.pdf")
        fig.savefig(paths[1])
    return paths


def smooth(y, window: int = 50):
    """Running mean over ``window`` steps (the per-step loss of a fresh batch is noisy):
    ``(means, steps)``, each mean placed at the last step of its window."""
    y = array("y", y, ndim=1)
    w = min(positive_int("window", window), len(y))
    return np.convolve(y, np.ones(w) / w, mode="valid"), np.arange(w - 1, len(y))


def legend(ax) -> None:
    """A small legend and a light grid."""
    if not callable(getattr(ax, "legend", None)) or not callable(getattr(ax, "grid", None)):
        raise ValueError(f"ax must be a matplotlib Axes; got {type(ax).__name__}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


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
