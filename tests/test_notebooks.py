"""Every lesson notebook runs top to bottom (slow cells skipped) and its checks pass.

One pytest case per notebook, so a failure names the lesson; `make test-slow` also runs the `#| slow` cells."""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p.name for p in (ROOT/"nbs").glob("[0-9]*.ipynb"))
BIN = Path(sys.executable).parent


def _run(nb, flags="", timeout=1800):
    cmd = [str(BIN/"nbdev-test"), str(ROOT/"nbs"/nb)] + (["--flags", flags] if flags else [])
    r = subprocess.run(cmd, cwd=ROOT/"nbs", capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{nb} failed:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"


def test_every_lesson_is_collected():
    assert len(NBS) >= 8, NBS


@pytest.mark.parametrize("nb", NBS)
def test_notebook(nb):
    _run(nb)


@pytest.mark.slow
@pytest.mark.parametrize("nb", NBS)
def test_notebook_slow_cells(nb):
    "66c trains and evaluates a tool adapter on SmolLM2: 20 minutes on an idle 2-core CPU, so an hour of headroom."
    _run(nb, flags="slow", timeout=3600)
