"""The figures (each topic's figures module, collected by theory.draw_all) are drawn from run records, nothing re-trained; the
figures of a full run are looked at by eye (the README shows them)."""
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
    assert sorted(p.name for p in paths) == ["gd-step-loss.png", "gd-step-products.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_figures_command_says_what_is_wrong(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["figures", str(tmp_path / "nowhere")]) == 2
    assert main(["figures", str(tmp_path)]) == 2
    assert "holds no run records" in capsys.readouterr().err
