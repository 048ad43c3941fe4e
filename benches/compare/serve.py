"""Load test of batch-1 predictions on a digits network over loopback: `oximl serve` (TF Serving REST `:predict`,
batching on and off, and KServe v2 `infer`) side by side with MLServer (`mlserver` + `mlserver-sklearn`, V2
protocol) serving the same network as a scikit-learn MLPClassifier. The load generator is `wrk` (Debian) at 1, 16
and 64 connections, each run a fixed duration (stops by itself); figures: requests/s, p50/p99 latency, errors
(non-2xx and socket errors), server RSS before and after.

    python benches/compare/serve.py [--seconds 5] [--oximl target/release/oximl]

Needs `wrk` on PATH, and in this Python: oximl, scikit-learn, mlserver, mlserver-sklearn. Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from oximl.layers import Dense
from oximl.models import Sequential


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its descendants (MLServer runs its models in worker processes)."""
    total, pids = 0, [pid]
    while pids:
        p = pids.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                pids.extend(int(c) for c in children)
        except (OSError, AttributeError):
            pass
    return total / 1024


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())


def wrk(url: str, body: dict, connections: int, seconds: int, work: Path) -> dict:
    script = work / "post.lua"
    payload = json.dumps(body).replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{payload}"\nwrk.headers["Content-Type"] = "application/json"\n'
    )
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"), "p99": ms("99"),
            "errors": errors, "requests": requests}


def digits_models(work: Path) -> tuple[np.ndarray, Path, Path]:
    """The same 64-128-10 ReLU/softmax network as scikit-learn's MLPClassifier (MLServer) and as oximl."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    mlp = MLPClassifier(hidden_layer_sizes=(128,), max_iter=200, random_state=0).fit(x, y)
    sk_dir = work / "mlserver" / "digits"
    sk_dir.mkdir(parents=True)
    joblib.dump(mlp, sk_dir / "model.joblib")
    settings = {"name": "digits", "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": "./model.joblib", "version": "1"}}
    (sk_dir / "model-settings.json").write_text(json.dumps(settings))
    net = Sequential([Dense(128, activation="relu", input_dim=64), Dense(10, activation="softmax")])
    net.set_weights([mlp.coefs_[0], mlp.intercepts_[0], mlp.coefs_[1], mlp.intercepts_[1]])
    np.testing.assert_allclose(net.predict(x[:100]), mlp.predict_proba(x[:100]), rtol=1e-4, atol=1e-5)
    base = work / "oximl" / "digits"
    (base / "1").mkdir(parents=True)
    net.save(str(base / "1" / "model.oximl"))
    return x, base, work / "mlserver"


def run(name: str, command: list[str], ready: str, calls: list[tuple[str, str, dict]], conns, seconds, work, env=None):
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                               start_new_session=True)
    rows = []
    try:
        wait_ready(ready)
        for label, url, body in calls:
            post(url, body)  # warm up, and check the answer is valid JSON
            before = rss_mb(process.pid)
            for c in conns:
                r = wrk(url, body, c, seconds, work)
                rows.append((f"{name} {label}", c, r, before, rss_mb(process.pid)))
                print(f"{name:>8} {label:<22} {c:>3} conns: {r['rps']:>9.0f} req/s  p50 {r['p50']:>7.2f} ms  "
                      f"p99 {r['p99']:>7.2f} ms  errors {r['errors']}  ({r['requests']} requests)  "
                      f"RSS {before:.0f} -> {rss_mb(process.pid):.0f} MB", flush=True)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="duration of each wrk run")
    parser.add_argument("--oximl", default="target/release/oximl", help="the oximl binary")
    parser.add_argument("--connections", default="1,16,64")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    conns = [int(c) for c in args.connections.split(",")]
    print(f"CPU: {os.cpu_count()} logical cores, shared by server and wrk (loopback); wrk -d{args.seconds}s")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        x, base, ml_dir = digits_models(work)
        row = x[:1].tolist()
        tf_body = {"instances": row}
        v2_body = {"inputs": [{"name": "input", "shape": [1, 64], "datatype": "FP32", "data": row[0]}]}
        results = []
        for label, flags in [("batching on", []), ("batching off", ["--max-batch-size", "1"])]:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            command = [args.oximl, "serve", "--model", f"digits={base}", "--port", str(port), *flags]
            calls = [(f":predict ({label})", f"{url}/v1/models/digits:predict", tf_body)]
            if not flags:
                calls.append(("v2 infer (batching on)", f"{url}/v2/models/digits/infer", v2_body))
            results += run("oximl", command, f"{url}/v2/health/ready", calls, conns, args.seconds, work)
        port = free_port()
        (ml_dir / "settings.json").write_text(json.dumps({"http_port": port, "grpc_port": free_port(),
                                                          "metrics_port": free_port(), "debug": False,
                                                          # inference in the server process: MLServer 1.7's
                                                          # worker processes fail to start on Python 3.11 here
                                                          # ("no current event loop"), and no IPC is faster
                                                          "parallel_workers": 0}))
        url = f"http://127.0.0.1:{port}"
        command = [str(Path(sys.executable).parent / "mlserver"), "start", str(ml_dir)]
        calls = [("v2 infer", f"{url}/v2/models/digits/infer", v2_body)]
        results += run("mlserver", command, f"{url}/v2/models/digits/ready", calls, conns, args.seconds, work)
    print("\n| server | endpoint | connections | requests/s | p50 ms | p99 ms | errors | RSS before → after MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, c, r, before, after in results:
        server, endpoint = name.split(" ", 1)
        print(f"| {server} | {endpoint} | {c} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | "
              f"{before:.0f} → {after:.0f} |")


if __name__ == "__main__":
    main()
