"""Take the committed screenshots of the Space: one per tab, each with its example run.

    python space_app/screenshots.py [--out space_app]

Starts the app on a free local port, opens ``/?tab=NAME&example=1`` for each tab in headless
Chromium (``chromium.py``), waits until the tab's result has arrived and its images have loaded,
and writes ``screenshot.png`` (Predict) and ``screenshot_<tab>.png`` (the others).
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: JavaScript that is true once the tab's example result is on the page.
READY = {
    "predict": "document.body.innerText.includes('places the score among')",
    "rank": "document.body.innerText.includes('Ranked ')",
    "design": "document.body.innerText.includes('Best score')",
    "explore": "document.body.innerText.includes('Surrogate evaluation')",
}
SETTLED = ("!document.body.innerText.includes('processing |') && "
           "Array.from(document.images).every(i => i.complete)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def take(url: str, out: Path, tabs=tuple(READY), width: int = 1400) -> list[Path]:
    from chromium import Browser

    written = []
    with Browser(width=width, height=1000) as browser:
        for tab in tabs:
            browser.open(f"{url}?tab={tab}&example=1", until=f"({READY[tab]}) && {SETTLED}", timeout=120)
            time.sleep(1.0)
            path = out / ("screenshot.png" if tab == "predict" else f"screenshot_{tab}.png")
            browser.screenshot(path)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    import app

    demo = app.build_demo(app.SpaceApp())
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, ssr_mode=False, quiet=True)
    try:
        for path in take(f"http://127.0.0.1:{port}/", args.out):
            print(path)
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
