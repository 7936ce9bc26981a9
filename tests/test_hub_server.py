"""Round trips through the local test hub with the real huggingface_hub and datasets clients."""

from __future__ import annotations

import filecmp
import json
import os
import re
from pathlib import Path

import pytest

huggingface_hub = pytest.importorskip("huggingface_hub")
from huggingface_hub import HfApi, ModelHubMixin, hf_hub_download, snapshot_download  # noqa: E402
from huggingface_hub.errors import (  # noqa: E402
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

# huggingface_hub's basic LFS upload passes `data=<file>` to httpx2, which warns; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

SHA = re.compile(r"^[0-9a-f]{40}$")
README = """---
license: apache-2.0
library_name: surrogate-hub
tags:
- test
---
# Test model
"""




def make_model_folder(folder: Path, value: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"value": value, "layers": [4, 8]}))
    (folder / "weights.bin").write_bytes(bytes(range(256)) * 40 + os.urandom(1000))
    (folder / "README.md").write_text(README)
    return folder


def test_clients_point_at_the_local_hub(hub):
    from huggingface_hub import constants

    assert constants.ENDPOINT == hub.endpoint
    assert not constants.is_offline_mode()
    assert HfApi().whoami()["name"] == "test-user"
    assert os.environ["HF_TOKEN"] in hub.state.tokens


def test_model_upload_download_roundtrip(hub, tmp_path):
    folder = make_model_folder(tmp_path / "model")
    repo_id = hub.new_repo_id("model")
    api = HfApi()
    url = api.create_repo(repo_id)
    assert url.repo_id == repo_id and url.endpoint == hub.endpoint
    api.create_repo(repo_id, exist_ok=True)
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo(repo_id)
    assert err.value.response.status_code == 409

    info = api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="add model")
    assert SHA.match(info.oid)
    assert sorted(api.list_repo_files(repo_id)) == ["README.md", "config.json", "weights.bin"]
    model_info = api.model_info(repo_id)
    assert model_info.sha == info.oid
    assert {s.rfilename: s.size for s in model_info.siblings}["weights.bin"] == (folder / "weights.bin").stat().st_size

    for name in ("config.json", "weights.bin", "README.md"):
        local = hf_hub_download(repo_id, name)
        assert Path(local).read_bytes() == (folder / name).read_bytes()
        assert f"/snapshots/{info.oid}/" in local
    snapshot = Path(snapshot_download(repo_id))
    assert filecmp.dircmp(snapshot, folder).diff_files == []
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(p.name for p in folder.iterdir())

    card = huggingface_hub.ModelCard.load(repo_id)
    assert card.data.license == "apache-2.0" and card.data.tags == ["test"]
    assert hub.state.tokens[-1] == os.environ["HF_TOKEN"]


def test_download_at_older_revision(hub, tmp_path):
    api = HfApi()
    repo_id = hub.new_repo_id("history")
    api.create_repo(repo_id)
    first = api.upload_folder(repo_id=repo_id, folder_path=make_model_folder(tmp_path / "v1", value=1)).oid
    second_folder = make_model_folder(tmp_path / "v2", value=2)
    (second_folder / "extra" / "notes.txt").parent.mkdir()
    (second_folder / "extra" / "notes.txt").write_text("second commit")
    second = api.upload_folder(repo_id=repo_id, folder_path=second_folder, delete_patterns=["weights.bin"]).oid
    (second_folder / "weights.bin").unlink()  # the second upload both replaced and (re)added it: drop locally
    assert first != second and SHA.match(second)

    old = hf_hub_download(repo_id, "config.json", revision=first)
    new = hf_hub_download(repo_id, "config.json")
    assert json.loads(Path(old).read_text())["value"] == 1
    assert json.loads(Path(new).read_text())["value"] == 2
    assert Path(hf_hub_download(repo_id, "weights.bin", revision=first)).read_bytes() == (
        tmp_path / "v1" / "weights.bin").read_bytes()
    assert Path(hf_hub_download(repo_id, "extra/notes.txt")).read_text() == "second commit"

    old_snapshot = Path(snapshot_download(repo_id, revision=first))
    assert sorted(p.name for p in old_snapshot.iterdir()) == ["README.md", "config.json", "weights.bin"]
    assert api.model_info(repo_id, revision=first).sha == first
    assert [c.commit_id for c in api.list_repo_commits(repo_id)][:2] == [second, first]
    assert "extra/notes.txt" in api.list_repo_files(repo_id) and "extra/notes.txt" not in api.list_repo_files(
        repo_id, revision=first)


def test_missing_entry_repo_and_revision(hub, tmp_path):
    api = HfApi()
    repo_id = hub.new_repo_id("errors")
    api.create_repo(repo_id)
    api.upload_folder(repo_id=repo_id, folder_path=make_model_folder(tmp_path / "m"))

    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "does-not-exist.json")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("test-user/no-such-repo", "config.json")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("test-user/no-such-repo")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "config.json", revision="no-such-branch")
    assert api.file_exists(repo_id, "config.json") and not api.file_exists(repo_id, "nope.txt")
    assert api.repo_exists(repo_id) and not api.repo_exists("test-user/no-such-repo")


def test_local_files_only_needs_no_server(hub, tmp_path, monkeypatch):
    from huggingface_hub import constants

    folder = make_model_folder(tmp_path / "m")
    repo_id = hub.new_repo_id("cached")
    HfApi().create_repo(repo_id)
    HfApi().upload_folder(repo_id=repo_id, folder_path=folder)
    hf_hub_download(repo_id, "config.json")
    snapshot_download(repo_id)

    seen = len(hub.state.requests)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # and any HTTP call would raise
    local = hf_hub_download(repo_id, "config.json", local_files_only=True)
    assert Path(local).read_bytes() == (folder / "config.json").read_bytes()
    snapshot = Path(snapshot_download(repo_id, local_files_only=True))
    assert (snapshot / "weights.bin").read_bytes() == (folder / "weights.bin").read_bytes()
    assert len(hub.state.requests) == seen


def test_paths_info_branches_deletes_and_hf_filesystem(hub, tmp_path):
    from huggingface_hub import HfFileSystem

    api = HfApi()
    repo_id = hub.new_repo_id("fs")
    api.create_repo(repo_id, repo_type="dataset")
    folder = make_model_folder(tmp_path / "d")
    api.upload_folder(repo_id=repo_id, folder_path=folder, path_in_repo="sub", repo_type="dataset")

    infos = api.get_paths_info(repo_id, ["sub/config.json", "sub", "missing"], repo_type="dataset")
    assert [(type(i).__name__, i.path) for i in infos] == [("RepoFile", "sub/config.json"), ("RepoFolder", "sub")]
    weights = api.get_paths_info(repo_id, "sub/weights.bin", repo_type="dataset")[0]
    assert weights.lfs is not None and weights.size == (folder / "weights.bin").stat().st_size  # binary: LFS

    fs = HfFileSystem()
    assert sorted(fs.ls(f"datasets/{repo_id}/sub", detail=False)) == [
        f"datasets/{repo_id}/sub/{n}" for n in ("README.md", "config.json", "weights.bin")]
    assert fs.read_bytes(f"datasets/{repo_id}/sub/weights.bin") == (folder / "weights.bin").read_bytes()
    with fs.open(f"datasets/{repo_id}/sub/weights.bin", "rb") as f:  # ranged reads
        f.seek(300)
        assert f.read(10) == (folder / "weights.bin").read_bytes()[300:310]

    api.create_branch(repo_id, branch="dev", repo_type="dataset")
    api.delete_file("sub/README.md", repo_id, repo_type="dataset", revision="dev")
    assert "sub/README.md" in api.list_repo_files(repo_id, repo_type="dataset")
    assert "sub/README.md" not in api.list_repo_files(repo_id, repo_type="dataset", revision="dev")
    assert {b.name for b in api.list_repo_refs(repo_id, repo_type="dataset").branches} == {"main", "dev"}
    api.delete_folder("sub", repo_id, repo_type="dataset")
    assert api.list_repo_files(repo_id, repo_type="dataset") == []
    with pytest.raises(EntryNotFoundError):
        api.delete_file("nope.txt", repo_id, repo_type="dataset")


def test_unknown_endpoints_are_404_json_and_recorded(hub_env):
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(f"{hub_env.endpoint}/api/not-an-endpoint", timeout=5)
    assert err.value.code == 404 and "error" in json.loads(err.value.read())
    assert ("GET", "/api/not-an-endpoint") in hub_env.state.unknown
    hub_env.state.unknown.remove(("GET", "/api/not-an-endpoint"))


def test_offline_without_hub_fixtures():
    from huggingface_hub import constants
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    assert constants.is_offline_mode() and os.environ["HF_HUB_OFFLINE"] == "1"
    with pytest.raises(OfflineModeIsEnabled):
        HfApi().model_info("test-user/anything")
    with pytest.raises(LocalEntryNotFoundError):
        hf_hub_download("test-user/not-cached-anywhere", "config.json")


class TinyModel(ModelHubMixin, library_name="surrogate-hub", tags=["test"]):
    """A minimal ModelHubMixin: the state is a small JSON file next to the config."""

    def __init__(self, scale: float = 1.0, weights: list[float] | None = None):
        self.scale = scale
        self.weights = weights or []

    def _save_pretrained(self, save_directory: Path) -> None:
        (Path(save_directory) / "state.json").write_text(json.dumps({"weights": self.weights}))

    @classmethod
    def _from_pretrained(cls, *, model_id, revision, cache_dir, force_download, local_files_only, token,
                         **model_kwargs):
        if Path(model_id).is_dir():
            path = Path(model_id) / "state.json"
        else:
            path = hf_hub_download(model_id, "state.json", revision=revision, cache_dir=cache_dir,
                                   force_download=force_download, local_files_only=local_files_only, token=token)
        model = cls(**model_kwargs)
        model.weights = json.loads(Path(path).read_text())["weights"]
        return model


def test_model_hub_mixin_push_and_load(hub):
    repo_id = hub.new_repo_id("mixin")
    model = TinyModel(scale=2.5, weights=[0.5, -1.25, 3.0])
    commit_url = model.push_to_hub(repo_id)
    assert repo_id in str(commit_url)
    assert {"config.json", "state.json", "README.md"} <= set(HfApi().list_repo_files(repo_id))

    loaded = TinyModel.from_pretrained(repo_id)
    assert loaded.scale == 2.5 and loaded.weights == [0.5, -1.25, 3.0]
    again = TinyModel.from_pretrained(repo_id, local_files_only=True)
    assert again.weights == loaded.weights


def test_repo_without_namespace_and_space_repo(hub, tmp_path):
    api = HfApi()
    name = hub.new_repo_id("plain").split("/")[1]
    assert api.create_repo(name).repo_id == f"test-user/{name}"  # like the Hub: the user's namespace
    api.upload_file(path_or_fileobj=b"hello", path_in_repo="hello.txt", repo_id=name)
    assert Path(hf_hub_download(name, "hello.txt")).read_bytes() == b"hello"

    space_id = hub.new_repo_id("space")
    api.create_repo(space_id, repo_type="space", space_sdk="gradio")
    readme = "---\ntitle: Demo\nsdk: gradio\napp_file: app.py\n---\n"
    api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=space_id, repo_type="space")
    local = hf_hub_download(space_id, "README.md", repo_type="space")
    assert Path(local).read_text() == readme
    assert api.space_info(space_id).sdk == "gradio"


# -- datasets --------------------------------------------------------------------------------------------------

DATASET_README = """---
license: apache-2.0
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
  - split: test
    path: data/test-*.parquet
---
# Test dataset
"""


@pytest.fixture
def rows():
    return {
        "train": [{"arch": f"conv{i}", "acc": i / 10, "n": i} for i in range(12)],
        "test": [{"arch": f"mlp{i}", "acc": 1 - i / 10, "n": -i} for i in range(5)],
    }


def test_dataset_folder_upload_and_load_dataset(hub, tmp_path, rows):
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "ds"
    (folder / "data").mkdir(parents=True)
    for split, split_rows in rows.items():
        datasets.Dataset.from_list(split_rows).to_parquet(folder / "data" / f"{split}-00000-of-00001.parquet")
    (folder / "README.md").write_text(DATASET_README)

    repo_id = hub.new_repo_id("corpus")
    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset")
    api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="dataset")

    loaded = datasets.load_dataset(repo_id)
    assert set(loaded) == {"train", "test"}
    for split, split_rows in rows.items():
        assert loaded[split].to_list() == split_rows
    local = hf_hub_download(repo_id, "data/train-00000-of-00001.parquet", repo_type="dataset")
    assert Path(local).read_bytes() == (folder / "data" / "train-00000-of-00001.parquet").read_bytes()


def test_dataset_push_to_hub_and_load_dataset(hub, rows):
    datasets = pytest.importorskip("datasets")
    repo_id = hub.new_repo_id("pushed")
    dataset_dict = datasets.DatasetDict({k: datasets.Dataset.from_list(v) for k, v in rows.items()})
    dataset_dict.push_to_hub(repo_id)
    files = HfApi().list_repo_files(repo_id, repo_type="dataset")
    assert "README.md" in files and any(f.startswith("data/") and f.endswith(".parquet") for f in files)

    loaded = datasets.load_dataset(repo_id)
    for split, split_rows in rows.items():
        assert loaded[split].to_list() == split_rows

    # a second push (new rows for one split) is a new commit; load_dataset follows it
    datasets.Dataset.from_list(rows["train"][:3]).push_to_hub(repo_id, split="train")
    assert datasets.load_dataset(repo_id, split="train").to_list() == rows["train"][:3]
