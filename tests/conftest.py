"""Shared test configuration: a network safety net and a local Hugging Face Hub.

Safety net (always on)
    Importing this conftest sets ``HF_HUB_OFFLINE=1`` / ``HF_DATASETS_OFFLINE=1`` (and disables telemetry and
    update checks) before any test module imports ``huggingface_hub`` or ``datasets``; the autouse session
    fixture ``_hub_offline_safety_net`` also forces the import-time constants of modules that were imported
    earlier.  So a test that does not ask for the hub fixtures can read local files and the HF cache, but any
    HTTP call through the HF clients fails with ``OfflineModeIsEnabled`` instead of reaching huggingface.co.

Local hub (``tests/hub_server.py``, a FastAPI app served by uvicorn on 127.0.0.1)
    ``hub_server`` (session scope): starts the server once; yields a ``HubServer`` with ``.endpoint``
    ("http://127.0.0.1:PORT"), ``.root`` (storage dir), ``.state`` (``HubState``: ``.repos``, ``.requests``,
    ``.tokens``, ``.unknown``) and ``.new_repo_id(name)`` (a fresh ``test-user/<name>-<n>``; repos live for
    the whole session, so use fresh ids).  On its own it does not redirect the clients.

    ``hub_env`` (function scope): the same ``HubServer``, plus everything that makes the *real* clients use it
    for the duration of the test: ``HF_ENDPOINT`` and the constants baked from it at import time, offline
    mode turned off, a fresh ``HF_HOME`` / ``HF_HUB_CACHE`` / ``HF_DATASETS_CACHE`` under ``tmp_path``,
    ``HF_TOKEN`` set to a dummy token, telemetry off.  Everything is restored afterwards.

    Example::

        def test_roundtrip(hub_env, tmp_path):
            from huggingface_hub import HfApi, hf_hub_download

            repo_id = hub_env.new_repo_id("model")
            api = HfApi()  # no endpoint/token arguments needed
            api.create_repo(repo_id)
            api.upload_folder(repo_id=repo_id, folder_path=tmp_path / "model")
            path = hf_hub_download(repo_id, "config.json")
            assert hub_env.state.unknown == []  # every endpoint the client called is implemented

    ``datasets.load_dataset(repo_id)`` and ``Dataset.push_to_hub(repo_id)`` work the same way.  Only
    ``huggingface_hub`` and ``datasets`` are redirected; libraries that copy ``HF_ENDPOINT`` at import time
    into their own constants (e.g. ``transformers``, if a test needs it) must be patched as well.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import os
import socket
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Safety net, applied at import time so that it is in place before test modules import the HF libraries.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_UPDATE_DOWNLOAD_COUNTS": "0",
    "GRADIO_ANALYTICS_ENABLED": "False",
}
os.environ.update(OFFLINE_ENV)

DUMMY_TOKEN = "hf_local_test_hub_dummy_token"


def _patch_modules(monkeypatch: pytest.MonkeyPatch, patches: dict[str, dict], import_missing: bool) -> None:
    """Set module attributes, importing the module first if ``import_missing`` (skipping absent packages)."""
    for name, attrs in patches.items():
        module = sys.modules.get(name)
        if module is None and import_missing:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
        if module is None:
            continue
        for attr, value in attrs.items():
            if hasattr(module, attr):
                monkeypatch.setattr(module, attr, value)


@pytest.fixture(scope="session", autouse=True)
def _hub_offline_safety_net():
    """Force offline mode in HF modules imported before this conftest (their constants are import-time)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in OFFLINE_ENV.items():
            mp.setenv(key, value)
        _patch_modules(mp, {
            "huggingface_hub.constants": {"HF_HUB_OFFLINE": True, "HF_HUB_DISABLE_TELEMETRY": True},
            "datasets.config": {"HF_HUB_OFFLINE": True, "HF_DATASETS_OFFLINE": True,
                                "HF_UPDATE_DOWNLOAD_COUNTS": False},
        }, import_missing=False)
        yield


@dataclass
class HubServer:
    endpoint: str
    root: Path
    state: object  # tests.hub_server.HubState
    _ids: itertools.count = field(default_factory=itertools.count)

    def new_repo_id(self, name: str = "repo") -> str:
        return f"test-user/{name}-{next(self._ids)}"


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory):
    """Run the local hub (uvicorn in a background thread) for the whole session."""
    import uvicorn

    try:
        from hub_server import create_app  # tests/ is on sys.path (default import mode, no __init__.py)
    except ImportError:  # e.g. --import-mode=importlib
        spec = importlib.util.spec_from_file_location("hub_server", Path(__file__).with_name("hub_server.py"))
        module = sys.modules["hub_server"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        create_app = module.create_app

    root = tmp_path_factory.mktemp("hub")
    app = create_app(root)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # a free port, held by us: no race with other processes
    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="test-hub")
    thread.start()

    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 15
    while True:
        try:
            no_proxy.open(f"{endpoint}/api/validate-yaml", data=b"{}", timeout=1).read()
            break
        except OSError:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the local test hub did not start") from None
            time.sleep(0.05)
    try:
        yield HubServer(endpoint, Path(root), app.state.hub)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def hub_env(hub_server: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    """Point huggingface_hub and datasets at ``hub_server`` (fresh caches, dummy token, online)."""
    home = tmp_path / "hf_home"
    hub_cache, datasets_cache = home / "hub", home / "datasets"
    endpoint = hub_server.endpoint
    env = {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(hub_cache),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_DATASETS_CACHE": str(datasets_cache),
        "HF_TOKEN": DUMMY_TOKEN,
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "HF_HUB_DISABLE_XET": "1",
        "NO_PROXY": ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"])),
        **{k: v for k, v in OFFLINE_ENV.items() if "OFFLINE" not in k},
    }
    env["no_proxy"] = env["NO_PROXY"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)

    # huggingface_hub and datasets read these at import time; import them now (so the values restored
    # after the test are the safe ones) and patch the copies.
    import huggingface_hub.constants as hf_constants

    hf_hosts = hf_constants.HF_URL_HOSTS | {"127.0.0.1"}
    _patch_modules(monkeypatch, {
        "huggingface_hub.constants": {
            "ENDPOINT": endpoint,
            "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
            "HF_URL_HOSTS": hf_hosts,
            "HF_HUB_OFFLINE": False,
            "HF_HUB_DISABLE_TELEMETRY": True,
            "HF_HUB_DISABLE_XET": True,
            "HF_HOME": str(home),
            "HF_HUB_CACHE": str(hub_cache),
            "HUGGINGFACE_HUB_CACHE": str(hub_cache),
            "HF_ASSETS_CACHE": str(home / "assets"),
            "HUGGINGFACE_ASSETS_CACHE": str(home / "assets"),
            "HF_XET_CACHE": str(home / "xet"),
            "HF_TOKEN_PATH": str(home / "token"),
            "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
            "CHECK_FOR_UPDATE_DONE_PATH": str(home / ".check_for_update_done"),
            "CHECK_FOR_SKILL_UPDATE_DONE_PATH": str(home / ".check_for_skill_update_done"),
            "AGENT_HARNESSES_PATH": str(home / ".agent_harnesses.json"),
        },
        # modules that did `from ..constants import X`
        "huggingface_hub.utils._cache_manager": {"HF_HUB_CACHE": str(hub_cache)},
        "huggingface_hub.utils._cache_assets": {"HF_ASSETS_CACHE": str(home / "assets")},
        "huggingface_hub.utils._git_credential": {"ENDPOINT": endpoint},
        "datasets.config": {
            "HF_ENDPOINT": endpoint,
            "HUB_DATASETS_URL": endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
            "HF_HUB_OFFLINE": False,
            "HF_DATASETS_OFFLINE": False,
            "HF_UPDATE_DOWNLOAD_COUNTS": False,
            "USE_PARQUET_EXPORT": False,  # else it asks http://datasets-server.<endpoint host>/info (DNS lookup)
            "HF_CACHE_HOME": str(home),
            "HF_DATASETS_CACHE": datasets_cache,
            "HF_MODULES_CACHE": home / "modules",
            "DOWNLOADED_DATASETS_PATH": datasets_cache / "downloads",
            "EXTRACTED_DATASETS_PATH": datasets_cache / "downloads" / "extracted",
        },
    }, import_missing=True)

    # HfFileSystem instances (used by datasets) are cached per (endpoint, token) with a listing cache:
    # start and end each test with none, so no stale listing survives a commit made in another test.
    from huggingface_hub import HfFileSystem

    HfFileSystem.clear_instance_cache()
    yield hub_server
    HfFileSystem.clear_instance_cache()


# Property tests: random exploration locally, a fixed example sequence in CI (CI=true) so a
# submission's result does not depend on luck; new counterexamples are found by local runs.
try:
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    pass


@pytest.fixture
def hub(hub_env, monkeypatch):
    """``hub_env``; at the end, check that every endpoint called exists and that no host other than
    the local server was looked up."""
    hosts, getaddrinfo = [], socket.getaddrinfo

    def recording_getaddrinfo(host, *args, **kwargs):
        hosts.append(host)
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    yield hub_env
    assert hub_env.state.unknown == []
    assert set(hosts) <= {"127.0.0.1", "localhost", b"127.0.0.1"}, hosts


@pytest.fixture
def torch1():
    """torch limited to one thread (the test machines are shared; oversubscribed threads crawl)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield torch
    torch.set_num_threads(threads)
