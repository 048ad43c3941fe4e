"""The stubs of the extension match it (mypy's stubtest), and the package type-checks with them."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

PACKAGE = Path(__file__).resolve().parents[1] / "oximl"


@pytest.mark.parametrize("args", [["mypy.stubtest", "oximl._oximl"], ["mypy", str(PACKAGE)]], ids=["stubtest", "mypy"])
def test_types_check(args, tmp_path):
    cache = ["--cache-dir", str(tmp_path)] if args[0] == "mypy" else []
    out = subprocess.run([sys.executable, "-m", *args, *cache], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
