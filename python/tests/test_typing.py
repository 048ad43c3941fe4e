"""The stubs of the extension match it (mypy's stubtest), and the package type-checks with them."""

import subprocess
import sys

import pytest

pytest.importorskip("mypy")


@pytest.mark.parametrize("command", [["mypy.stubtest", "oximl._oximl"], ["mypy", "-p", "oximl"]])
def test_types_check(command):
    out = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
