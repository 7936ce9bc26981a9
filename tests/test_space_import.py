"""Importing the package and the search space stays light: no torch, transformers, xgboost, gradio."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "xgboost", "gradio", "sklearn", "lightgbm")


@pytest.mark.parametrize(
    "statement",
    [
        "import surrogate_hub",
        "import surrogate_hub.space",
        "import surrogate_hub, surrogate_hub.space",
        "from surrogate_hub.space import parse, sample_many, infer",
        "import surrogate_hub.space.mutate, surrogate_hub.space.seeds",
    ],
)
def test_import_does_not_pull_heavy_dependencies(statement):
    code = (
        f"{statement}\n"
        "import sys\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{statement} imported {result.stdout.strip()}"


def test_the_check_itself_sees_torch():
    """The subprocess check can fail: importing the compiler does import torch."""
    pytest.importorskip("torch")
    code = "import surrogate_hub.space.compile, sys; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
