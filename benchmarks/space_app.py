"""The Space's responsiveness: cold start of ``python space_app/app.py`` and time per request.

    python benchmarks/space_app.py [--repeats 3] [--lines 1000]

Cold start: from launching the process to the first HTTP 200 on ``/`` (imports, loading the
surrogates and the corpus, rendering the Explore figures, starting the server). Requests go through
``gradio_client`` to that process (queue, JSON, files included): Predict for a fresh architecture
(first for a task shape: also scores the percentile reference; warm: reference cached), ranking
``--lines`` lines, and a 300-step Design run. The baseline for ranking is the library's own
``surrogate.rank`` of the same lines in this process (no parsing for shape checks, no table, no CSV).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, table, write_json

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int) -> tuple[subprocess.Popen, float]:
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "space_app" / "app.py")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                if r.status == 200:
                    return proc, time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)
        if time.perf_counter() - t0 > 300:
            proc.kill()
            raise TimeoutError("no answer in 300 s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def timed(fn, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--lines", type=int, default=1000)
    p.add_argument("--out", default=str(RESULTS / "space_app.json"))
    args = p.parse_args(argv)
    from gradio_client import Client

    from surrogate_hub.space import sample_many, to_string
    from surrogate_hub.surrogates import load_surrogate

    shape, classes, sur = (3, 32, 32), 10, "einspace-graf-xgb"
    lines = [to_string(a) for a in sample_many(args.lines, shape, seed=0)]
    fresh = [to_string(a) for a in sample_many(args.repeats + 1, shape, seed=12345)]
    text = "\n".join(lines)

    cold, first_predict, warm_predict, rank_app, design_app = [], [], [], [], []
    for r in range(args.repeats):
        port = _free_port()
        proc, seconds = start(port)
        cold.append(seconds)
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            first_predict.append(timed(client.predict, fresh[0], "3,32,32", classes, api_name="/predict"))
            warm_predict.append(timed(client.predict, fresh[r + 1], "3,32,32", classes, api_name="/predict"))
            rank_app.append(timed(client.predict, text, None, sur, "3,32,32", classes, api_name="/rank"))
            design_app.append(timed(client.predict, sur, "3,32,32", classes, 300, 50, r, "random samples",
                                    api_name="/design"))
        finally:
            stop(proc)
    model = load_surrogate(sur)
    rank_lib = [timed(model.rank, lines, input_shape=shape, num_classes=classes) for _ in range(args.repeats)]

    med = statistics.median
    rows = [
        {"measure": "cold start (process launch to first HTTP 200)", "median s": f"{med(cold):.1f}",
         "runs": ", ".join(f"{x:.1f}" for x in cold)},
        {"measure": "predict, first request for a task shape", "median s": f"{med(first_predict):.2f}",
         "runs": ", ".join(f"{x:.2f}" for x in first_predict)},
        {"measure": "predict, warm (another architecture)", "median s": f"{med(warm_predict):.2f}",
         "runs": ", ".join(f"{x:.2f}" for x in warm_predict)},
        {"measure": f"rank {args.lines:,} lines through the app", "median s": f"{med(rank_app):.2f}",
         "runs": ", ".join(f"{x:.2f}" for x in rank_app)},
        {"measure": f"rank {args.lines:,} lines, library only (baseline)", "median s": f"{med(rank_lib):.2f}",
         "runs": ", ".join(f"{x:.2f}" for x in rank_lib)},
        {"measure": "design, 300 steps through the app", "median s": f"{med(design_app):.2f}",
         "runs": ", ".join(f"{x:.2f}" for x in design_app)},
    ]
    print(table(rows, ["measure", "median s", "runs"]))
    print(f"app / library time for ranking {args.lines:,} lines: {med(rank_app) / med(rank_lib):.1f}x")
    write_json({
        "surrogate": sur, "input_shape": list(shape), "num_classes": classes, "lines": args.lines,
        "repeats": args.repeats,
        "seconds": {"cold_start": cold, "predict_first": first_predict, "predict_warm": warm_predict,
                    "rank_app": rank_app, "rank_library": rank_lib, "design_300": design_app},
        "median": {"cold_start": med(cold), "predict_first": med(first_predict), "predict_warm": med(warm_predict),
                   "rank_app": med(rank_app), "rank_library": med(rank_lib), "design_300": med(design_app)},
        "rank_app_over_library": med(rank_app) / med(rank_lib),
        "rows": rows,
    }, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
