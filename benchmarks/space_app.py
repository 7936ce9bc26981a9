"""The Space's responsiveness: cold start of ``python space_app/app.py`` and time per request.

    python benchmarks/space_app.py [--repeats 3] [--lines 1000]

Wall times depend on what else the machine runs, so the CPU seconds of the app's process are
recorded too (``/proc``), and the load average. Cold start: from launching the process to the first HTTP 200 on ``/`` (imports, loading the
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``); robust to other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn, *args, pid: int | None = None, cpu: list | None = None, **kwargs) -> float:
    """Wall seconds of ``fn(...)``; with ``pid``, also appends that process's CPU seconds to ``cpu``."""
    c0 = cpu_seconds(pid) if pid else 0.0
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    wall = time.perf_counter() - t0
    if pid and cpu is not None:
        cpu.append(cpu_seconds(pid) - c0)
    return wall


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
    cpu: dict[str, list[float]] = {k: [] for k in ("cold_start", "predict_first", "predict_warm", "rank_app", "design_300")}
    load = [os.getloadavg()[0]]
    for r in range(args.repeats):
        port = _free_port()
        proc, seconds = start(port)
        cold.append(seconds)
        cpu["cold_start"].append(cpu_seconds(proc.pid))
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            kw = {"pid": proc.pid}
            first_predict.append(timed(client.predict, fresh[0], "3,32,32", classes, api_name="/predict",
                                       cpu=cpu["predict_first"], **kw))
            warm_predict.append(timed(client.predict, fresh[r + 1], "3,32,32", classes, api_name="/predict",
                                      cpu=cpu["predict_warm"], **kw))
            rank_app.append(timed(client.predict, text, None, sur, "3,32,32", classes, api_name="/rank",
                                  cpu=cpu["rank_app"], **kw))
            design_app.append(timed(client.predict, sur, "3,32,32", classes, 300, 50, r, "random samples",
                                    api_name="/design", cpu=cpu["design_300"], **kw))
        finally:
            stop(proc)
        load.append(os.getloadavg()[0])
    model = load_surrogate(sur)
    rank_lib, rank_lib_cpu = [], []
    for _ in range(args.repeats):
        c0 = time.process_time()
        rank_lib.append(timed(model.rank, lines, input_shape=shape, num_classes=classes))
        rank_lib_cpu.append(time.process_time() - c0)
    cpu["rank_library"] = rank_lib_cpu

    med = statistics.median
    walls = {"cold_start": cold, "predict_first": first_predict, "predict_warm": warm_predict,
             "rank_app": rank_app, "rank_library": rank_lib, "design_300": design_app}
    labels = {
        "cold_start": "cold start (process launch to first HTTP 200)",
        "predict_first": "predict, first request for a task shape",
        "predict_warm": "predict, warm (another architecture)",
        "rank_app": f"rank {args.lines:,} lines through the app",
        "rank_library": f"rank {args.lines:,} lines, library only (baseline)",
        "design_300": "design, 300 steps through the app",
    }
    rows = [{"measure": labels[k], "median wall s": f"{med(walls[k]):.2f}", "median CPU s": f"{med(cpu[k]):.2f}",
             "wall runs": ", ".join(f"{x:.2f}" for x in walls[k])} for k in labels]
    print(table(rows, list(rows[0])))
    print(f"app / library for ranking {args.lines:,} lines: wall {med(rank_app) / med(rank_lib):.1f}x, "
          f"CPU {med(cpu['rank_app']) / med(cpu['rank_library']):.1f}x; load average during the run: "
          f"{min(load):.1f}-{max(load):.1f} on {os.cpu_count()} CPUs")
    write_json({
        "surrogate": sur, "input_shape": list(shape), "num_classes": classes, "lines": args.lines,
        "repeats": args.repeats,
        "seconds": walls,
        "cpu_seconds": cpu,
        "median": {k: med(v) for k, v in walls.items()},
        "median_cpu": {k: med(v) for k, v in cpu.items()},
        "rank_app_over_library": med(rank_app) / med(rank_lib),
        "rank_app_over_library_cpu": med(cpu["rank_app"]) / med(cpu["rank_library"]),
        "load_average_1min": load,
        "rows": rows,
    }, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
