"""The figures (each topic's figures module, collected by theory.draw_all) are drawn from run records, nothing
re-trained; each comes with a one-paragraph caption computed from the record and written beside it, which
the book shows under the figure (docs/_ext/book_text.py reads it; nobody pastes it); the figures of a full run are looked at by eye (the README shows them)."""
import re
from pathlib import Path

import numpy as np
import pytest

from theory import gd_step as T
from theory.core import records as R
from theory.__main__ import main

TINY = T.GDReproConfig(steps=3, batch=16, deep_steps=3, depths=(2,), n_tasks=200, gaussian_steps=3)


@pytest.fixture(scope="module")
def tiny_result():
    return T.reproduce(TINY)

def test_figures_are_drawn_from_records(tiny_result, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from theory import draw_all
    R.write_record(tiny_result.to_record(), tmp_path)
    paths = draw_all(tmp_path)
    assert sorted(p.name for p in paths) == ["gd-step-loss.caption.md", "gd-step-loss.png",
                                             "gd-step-products.caption.md", "gd-step-products.png"]
    assert all(p.stat().st_size > 1000 for p in paths if p.suffix == ".png")
    caption = (tmp_path / "gd-step-loss.caption.md").read_text()
    assert caption.count("\n") == 1 and f"{TINY.steps:,} Adam steps" in caption


def test_figures_command_says_what_is_wrong(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["figures", str(tmp_path / "nowhere")]) == 2
    assert main(["figures", str(tmp_path)]) == 2
    assert "holds no run records" in capsys.readouterr().err


FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def test_every_published_figure_has_its_caption_and_no_page_pastes_one():
    """docs/figures: every figure has a caption file (the book reads it from there), and no
    page of docs/ repeats a caption word for word (a pasted caption goes stale when the
    drawer changes)."""
    pngs = sorted(p.stem for p in FIGURES.glob("*.png"))
    captions = sorted(p.name[: -len(".caption.md")] for p in FIGURES.glob("*.caption.md"))
    assert pngs == captions
    pages = {p: " ".join(p.read_text().split()) for p in FIGURES.parent.rglob("*.md")
             if "figures" not in p.parts and "_build" not in p.parts and "_generated" not in p.parts}
    for stem in captions:
        text = " ".join((FIGURES / f"{stem}.caption.md").read_text().split())
        assert not [p.name for p, page in pages.items() if text in page], stem


def test_plotting_helpers_follow_the_style_rules():
    pytest.importorskip("matplotlib")
    from theory.core import plotting
    fig = plotting.figure(4, 3)
    ax = fig.subplots()
    im = plotting.signed_image(ax, np.array([[1.0, -3.0], [0.5, 0.0]]))
    assert im.get_cmap().name == plotting.DIVERGING and im.get_clim() == (-3.0, 3.0)      # centred at 0
    x = plotting.categorical_axis(ax, [64, 128, 1024], "K")
    assert list(x) == [0, 1, 2] and "categorical" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["64", "128", "1024"]
    assert plotting.over_seeds(1) == ", one seed" and plotting.over_seeds(3) == ", mean and min–max over 3 seeds"
    ax.plot([0, 1], [0, 1], label="a")
    plotting.legend(ax)
    box = ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert box.y1 <= 0                                     # below the axes, not over the data
    with pytest.raises(ValueError, match="caption must be one non-empty paragraph"):
        plotting.save(fig, Path("."), "x", False, "first\n\nsecond")


def test_no_figure_labels_raw_subscripts():
    """Slide-ready labels: a symbol with a subscript or superscript is mathtext ($s_{t+1}$),
    never raw text like s_{t+1} or W_K^T in a label."""
    raw = re.compile(r"[^\W\d]_[\w{]|\^T\b")                  # s_{t+1}, η_Z, α_n, W_K^T
    for path in sorted(Path(__file__).resolve().parents[1].glob("theory/*/figures.py")):
        for line in path.read_text().splitlines():
            if re.search(r"set_[xy]label|label=|set_title|suptitle", line):
                stripped = re.sub(r"\$[^$]*\$", "", line)          # mathtext is fine
                stripped = re.sub(r"\[\s*f?(\"[^\"]*\"|'[^']*')\s*\]", "", stripped)   # dict keys are not labels
                texts = re.findall(r'"([^"]*)"', stripped) + re.findall(r"'([^']*)'", stripped)
                assert not [t for t in texts if raw.search(t)], f"{path.name}: {line.strip()}"
    assert raw.search("1 − α_n") and raw.search("s_{t+1}") and raw.search("W_K^T W_Q") and not raw.search("η = 0.3")
