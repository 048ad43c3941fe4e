"""``python -m oximl serve``: the Rust server run from Python answers both protocols with the model's own
predictions, and Ctrl-C (SIGINT) or SIGTERM stops it gracefully with exit status 0."""

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from oximl.layers import Dense
from oximl.models import Sequential


def call(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def model_dir(tmp_path):
    model = Sequential([Dense(8, activation="relu", input_dim=5), Dense(3, activation="softmax")], seed=3)
    (tmp_path / "net" / "1").mkdir(parents=True)
    model.save(str(tmp_path / "net" / "1" / "model.oximl"))
    return tmp_path / "net", model


def start(base):
    """The server on a free port; returns the process and its URL (read from the line it prints)."""
    args = [sys.executable, "-m", "oximl", "serve", "--model", f"net={base}", "--port", "0", "--poll-seconds", "0"]
    process = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    found = re.search(r"http://[0-9.:]+", line)
    assert found, f"no address in {line!r}"
    return process, found.group(0)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_python_m_oximl_serve_answers_then_stops_gracefully(model_dir, stop):
    base, model = model_dir
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    want = model.predict(x)
    process, url = start(base)
    try:
        status, body = call(f"{url}/v1/models/net:predict", {"instances": x.tolist()})
        assert status == 200, body
        np.testing.assert_allclose(np.array(body["predictions"], dtype=np.float32), want, rtol=1e-5, atol=1e-6)
        tensor = {"name": "input", "shape": [4, 5], "datatype": "FP32", "data": x.ravel().tolist()}
        status, body = call(f"{url}/v2/models/net/infer", {"inputs": [tensor]})
        assert status == 200, body
        got = np.array(body["outputs"][0]["data"], dtype=np.float32).reshape(body["outputs"][0]["shape"])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        status, body = call(f"{url}/v1/models/net:predict", {"instances": [[1.0, 2.0]]})
        assert status == 400 and "5 values" in body["error"]
        assert call(f"{url}/v1/models/other")[0] == 404
    finally:
        time.sleep(0.1)
        process.send_signal(stop)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "shutting down" in err


def test_usage_errors_exit_2(model_dir):
    done = subprocess.run([sys.executable, "-m", "oximl", "serve", "--port", "x"], capture_output=True, text=True)
    assert done.returncode == 2 and "--port" in done.stderr
    done = subprocess.run([sys.executable, "-m", "oximl"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr.lower()
    done = subprocess.run([sys.executable, "-m", "oximl", "serve", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--max-batch-size" in done.stdout
