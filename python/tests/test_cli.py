"""The wheel's ``oximl`` console script and ``python -m oximl`` run the Rust command line: the same subcommands,
output and exit statuses as the binary."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from oximl.layers import Dense
from oximl.models import Sequential, load_model


def script():
    """The console script installed beside this interpreter (pip puts it in the venv's bin/)."""
    found = Path(sys.executable).parent / "oximl"
    return str(found) if found.exists() else shutil.which("oximl")


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


@pytest.fixture
def model_file(tmp_path):
    model = Sequential([Dense(8, activation="relu", input_dim=5), Dense(3, activation="softmax")], seed=3)
    path = tmp_path / "net.oximl"
    model.save(str(path))
    return path, model


@pytest.mark.parametrize("launcher", ["script", "module"])
def test_info_convert_quantize_from_python(model_file, tmp_path, launcher):
    prefix = [script()] if launcher == "script" else [sys.executable, "-m", "oximl"]
    assert prefix[0], "the oximl console script is not installed"
    path, model = model_file
    done = run(*prefix, "info", str(path))
    assert done.returncode == 0, done.stderr
    assert "kind: sequential" in done.stdout and "parameters: 75 float32" in done.stdout, done.stdout
    onnx = tmp_path / "net.onnx"
    done = run(*prefix, "convert", str(path), str(onnx))
    assert done.returncode == 0, done.stderr
    x = np.random.default_rng(1).normal(size=(6, 5)).astype(np.float32)
    np.testing.assert_array_equal(load_model(str(onnx)).predict(x), model.predict(x))
    quantized = tmp_path / "int8.oximl"
    done = run(*prefix, "quantize", str(path), str(quantized))
    assert done.returncode == 0, done.stderr
    assert "int8" in run(*prefix, "info", str(quantized)).stdout


def test_exit_statuses_and_messages_match_the_binary(tmp_path):
    prefix = [sys.executable, "-m", "oximl"]
    version = run(*prefix, "--version")
    assert version.returncode == 0 and version.stdout.startswith("oximl "), version
    missing = run(*prefix, "info", str(tmp_path / "no-such.oximl"))
    assert missing.returncode == 1 and missing.stderr.startswith("oximl: ") and "no-such.oximl" in missing.stderr
    unknown = run(*prefix, "frobnicate")
    assert unknown.returncode == 2 and "frobnicate" in unknown.stderr
    assert run(*prefix).returncode == 2
