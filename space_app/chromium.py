"""Headless Chromium for checking the Space: dump the DOM, or drive a page and take screenshots.

Development tooling (tests and ``screenshots.py``), not imported by the app. :func:`dump_dom` runs
``chromium --dump-dom``. :class:`Browser` speaks the DevTools protocol over
``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated JSON), so it needs no
websocket library and no open port: it opens a page, waits until a JavaScript condition holds
(for example, until a result has arrived from the server) and captures a full-page PNG.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["FLAGS", "Browser", "chromium_binary", "dump_dom"]

#: Flags for a quiet, sandbox-free headless run that reaches for nothing but the given URL.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_binary() -> str | None:
    """The Chromium executable on PATH (Debian's package installs ``chromium``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def dump_dom(url: str, *, budget_ms: int = 8000, timeout: float = 120.0) -> str:
    """The serialised DOM of ``url`` after ``budget_ms`` of virtual time (``--dump-dom``)."""
    binary = chromium_binary()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        result = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"chromium --dump-dom exited with {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


class Browser:
    """One headless Chromium process driven over the DevTools pipe; use as a context manager."""

    def __init__(self, *, width: int = 1400, height: int = 1000) -> None:
        binary = chromium_binary()
        if binary is None:
            raise FileNotFoundError("chromium is not installed (Debian: apt-get install -y chromium)")
        self.width, self.height = width, height
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        # Chromium reads the protocol from fd 3 and writes to fd 4. A tiny Python trampoline moves the
        # pipe ends there and execs Chromium (a preexec_fn would be unsafe in a threaded process,
        # such as a test session that also runs the app's server).
        trampoline = "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); os.execv(sys.argv[3], sys.argv[3:])"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", trampoline, str(to_child_r), str(from_child_w), binary, *FLAGS,
             f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe", f"--window-size={width},{height}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    # -- protocol -----------------------------------------------------------------------
    def call(self, method: str, *, session: bool = False, timeout: float = 60.0, **params: Any) -> dict:
        """Send one command and wait for its reply (events in between are discarded)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def _read(self, deadline: float) -> dict:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from chromium")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe (exit status {self._proc.poll()})")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    # -- pages --------------------------------------------------------------------------
    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, *, until: str = "true", timeout: float = 60.0) -> None:
        """Load ``url`` and wait until the JavaScript expression ``until`` is true."""
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"document.readyState === 'complete' && Boolean({until})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: {until} did not become true in {timeout:.0f} s")
            time.sleep(0.25)

    def screenshot(self, path: str | Path, *, full_page: bool = True) -> bytes:
        """A PNG of the page (the whole scroll height when ``full_page``), written to ``path``."""
        height = self.height
        if full_page:
            height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or self.height)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=self.width, height=height,
                  deviceScaleFactor=1, mobile=False)
        time.sleep(0.5)  # let the layout settle at the new size
        data = base64.b64decode(self.call("Page.captureScreenshot", session=True, format="png")["data"])
        Path(path).write_bytes(data)
        return data

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError):  # it may exit before it answers
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
