"""Run the repository's ``training/*.py`` scripts in-process (they are scripts, not package modules)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str, folder: str = "training"):
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_script(name: str, argv: list[str]) -> int:
    code = load_script(name).main(argv)
    assert code == 0, f"training/{name}.py exited with {code}"
    return code
