"""A small Hugging Face Hub-compatible HTTP server for tests.

The real ``huggingface_hub`` and ``datasets`` clients talk to it over HTTP (see ``tests/conftest.py`` for
the fixtures that start it and point the clients at it).  It keeps git-like history in memory (every commit
is a full ``{path: blob}`` snapshot with a random 40-hex id, branches point at commits) and file contents
as content-addressed blobs under ``root/blobs``.

Uploads: text files get ``uploadMode: regular`` (the client inlines them, base64, in the NDJSON commit);
binary ones get ``lfs`` like on the Hub, and the client then PUTs them through the basic Git LFS batch
protocol before the commit (``datasets`` ``push_to_hub`` needs this: it deletes its temporary parquet file
right after the pre-upload).  The clients must not use Xet (``HF_HUB_DISABLE_XET=1``).

Routing is done by hand on the raw (still percent-encoded) path, because repo ids have one or two
segments and revisions may contain an encoded ``/``.  Requests that match no route get a 404 JSON reply
and are recorded in ``HubState.unknown`` (and logged), so missing endpoints are easy to spot.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, unquote

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

logger = logging.getLogger("tests.hub_server")

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
# Words that follow a repo id in a URL (used to tell "name/<action>" from "namespace/name").
ACTIONS = {"revision", "tree", "paths-info", "preupload", "commit", "commits", "refs", "branch", "resolve"}
QUIET_404 = {"/api/agent-harnesses"}  # called by the client, a 404 is the expected answer
USER = "test-user"
LFS_UPLOAD = "lfs-upload"  # PUT /lfs-upload/<sha256>: where the LFS batch answer sends the client


def git_oid(data: bytes) -> str:
    """The git blob id, which is what the Hub reports as a regular file's oid / ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Blob(NamedTuple):
    key: str  # file name under root/blobs: git oid (regular files) or sha256 (LFS files)
    size: int
    lfs: bool = False

    def entry(self, path: str) -> dict:
        """The Hub's tree / paths-info entry (an LFS file's git oid is that of its pointer file)."""
        if not self.lfs:
            return {"type": "file", "path": path, "oid": self.key, "size": self.size}
        pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.key}\nsize {self.size}\n".encode()
        return {"type": "file", "path": path, "oid": git_oid(pointer), "size": self.size,
                "lfs": {"oid": self.key, "size": self.size, "pointerSize": len(pointer)}}


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    files: dict[str, Blob]
    date: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    sdk: str | None = None
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        oid = self.branches.get(rev, rev)
        if oid in self.commits:
            return self.commits[oid]
        matches = [c for c in self.commits.values() if len(rev) >= 7 and c.oid.startswith(rev)]
        return matches[0] if len(matches) == 1 else None

    def add_commit(self, branch: str, title: str, files: dict[str, Blob]) -> Commit:
        oid = hashlib.sha1(f"{self.id}{title}{time.time_ns()}{uuid.uuid4()}".encode()).hexdigest()
        commit = Commit(oid, self.branches.get(branch), title, files)
        self.commits[oid] = commit
        self.branches[branch] = oid
        return commit


class HubError(Exception):
    def __init__(self, status: int, code: str | None, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        headers = {"X-Error-Code": self.code, "X-Error-Message": self.message} if self.code else {}
        return JSONResponse({"error": self.message}, status_code=self.status, headers=headers)


class HubState:
    """Everything the server knows; tests may inspect ``requests``, ``tokens`` and ``unknown``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.tokens: list[str] = []  # bearer tokens seen, in order
        self.unknown: list[tuple[str, str]] = []  # (method, path) that matched no route

    # -- helpers ---------------------------------------------------------------------------------------------
    def repo(self, rtype: str, repo_id: str) -> Repo:
        repo = self.repos.get((rtype, repo_id))
        if repo is None:
            raise HubError(404, "RepoNotFound", f"Repository not found: {rtype} {repo_id}")
        return repo

    def commit(self, repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return commit

    def split_repo(self, rtype: str, segs: list[str]) -> tuple[str, list[str]]:
        """Split ``[ns, name, action, ...]`` or ``[name, action, ...]`` into (repo_id, rest)."""
        if len(segs) >= 2 and (rtype, "/".join(segs[:2])) in self.repos:
            return "/".join(segs[:2]), segs[2:]
        if segs and (rtype, f"{USER}/{segs[0]}") in self.repos:  # like the Hub's redirect of legacy ids
            return f"{USER}/{segs[0]}", segs[1:]
        n = 1 if len(segs) == 1 or segs[1] in ACTIONS else 2
        return "/".join(segs[:n]), segs[n:]

    def put_blob(self, data: bytes, key: str) -> None:
        if not (self.blobs / key).exists():
            (self.blobs / key).write_bytes(data)

    @staticmethod
    def dir_entry(commit: Commit, path: str) -> dict:
        listing = sorted((p, b.key) for p, b in commit.files.items() if p.startswith(path + "/"))
        return {"type": "directory", "path": path, "oid": hashlib.sha1(repr(listing).encode()).hexdigest(), "size": 0}

    # -- endpoints -------------------------------------------------------------------------------------------
    def create_repo(self, body: dict, endpoint: str) -> Response:
        rtype = body.get("type") or "model"
        repo_id = f"{body.get('organization') or USER}/{body['name']}"  # the Hub puts it in the user's namespace
        url = f"{endpoint}/{URL_PREFIX[rtype]}{repo_id}"
        if (rtype, repo_id) in self.repos:
            # the client with exist_ok=True reads "url" from the 409 body
            return JSONResponse({"error": f"You already created this {rtype} repo", "url": url}, status_code=409)
        private = bool(body.get("private")) or body.get("visibility") == "private"
        repo = self.repos[(rtype, repo_id)] = Repo(rtype, repo_id, private, body.get("sdk"))
        repo.add_commit("main", "initial commit", {})
        return JSONResponse({"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self, body: dict) -> Response:
        rtype = body.get("type") or "model"
        repo_id = f"{body.get('organization') or USER}/{body['name']}"
        self.repo(rtype, repo_id)
        del self.repos[(rtype, repo_id)]
        return JSONResponse({})

    def repo_info(self, repo: Repo, rev: str) -> Response:
        commit = self.commit(repo, rev)
        siblings = []
        for path, blob in sorted(commit.files.items()):
            entry, lfs = blob.entry(path), None
            if blob.lfs:  # siblings call the LFS sha256 "sha256" (the tree calls it "oid")
                lfs = {"sha256": blob.key, "size": blob.size, "pointerSize": entry["lfs"]["pointerSize"]}
            siblings.append({"rfilename": path, "size": blob.size, "blobId": entry["oid"], "lfs": lfs})
        info = {"id": repo.id, "author": repo.id.split("/")[0] if "/" in repo.id else None, "sha": commit.oid,
                "private": repo.private, "gated": False, "disabled": False, "downloads": 0, "likes": 0,
                "tags": [], "lastModified": commit.date, "createdAt": repo.commits[min(repo.commits)].date,
                "siblings": siblings}
        if repo.type == "model":
            info["modelId"] = repo.id
        if repo.type == "space":
            info["sdk"] = repo.sdk
        return JSONResponse(info)

    def tree(self, repo: Repo, rev: str, path: str, recursive: bool) -> Response:
        commit = self.commit(repo, rev)
        prefix = path + "/" if path else ""
        entries, dirs = [], set()
        for p, blob in sorted(commit.files.items()):
            if not p.startswith(prefix):
                continue
            parts = p[len(prefix):].split("/")
            for i in range(1, len(parts) if recursive else min(2, len(parts))):
                d = prefix + "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    entries.append(self.dir_entry(commit, d))
            if recursive or len(parts) == 1:
                entries.append(blob.entry(p))
        if path and not entries:
            raise HubError(404, "EntryNotFound", f"{path} does not exist on {rev}")
        return JSONResponse(entries)

    def paths_info(self, repo: Repo, rev: str, paths: list[str]) -> Response:
        commit = self.commit(repo, rev)
        out = []
        for p in (p.strip("/") for p in paths):
            if p in commit.files:
                out.append(commit.files[p].entry(p))
            elif any(f.startswith(p + "/") for f in commit.files):
                out.append(self.dir_entry(commit, p))
        return JSONResponse(out)

    def preupload(self, repo: Repo, rev: str, body: dict) -> Response:
        files = self.commit(repo, rev).files
        out = []
        for f in body.get("files", []):
            binary = b"\0" in base64.b64decode(f.get("sample", "")) or f.get("size", 0) > 10_000_000
            # "oid" lets the client skip unchanged files: git oid (regular) or sha256 (LFS) of the current file
            out.append({"path": f["path"], "uploadMode": "lfs" if binary else "regular", "shouldIgnore": False,
                        "oid": files[f["path"]].key if f["path"] in files else None})
        return JSONResponse({"files": out})

    def lfs_batch(self, body: dict, endpoint: str) -> Response:
        objects = []
        for obj in body.get("objects", []):
            item = {"oid": obj["oid"], "size": obj["size"]}
            if not (self.blobs / obj["oid"]).exists():  # no "actions": the server already has it
                item["actions"] = {"upload": {"href": f"{endpoint}/{LFS_UPLOAD}/{obj['oid']}", "header": {}}}
            objects.append(item)
        return JSONResponse({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def lfs_upload(self, sha256: str, body: bytes) -> Response:
        if hashlib.sha256(body).hexdigest() != sha256:
            raise HubError(400, None, "LFS upload: sha256 mismatch")
        self.put_blob(body, sha256)
        return JSONResponse({})

    def do_commit(self, repo: Repo, rev: str, body: bytes, params: dict, endpoint: str) -> Response:
        if params.get("create_pr"):
            raise HubError(400, None, "create_pr is not supported by the test hub")
        if rev not in repo.branches:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {rev} (commits go to a branch)")
        files = dict(repo.commits[repo.branches[rev]].files)
        title = "commit"
        for line in filter(None, body.decode().splitlines()):
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                title = value.get("summary") or title
                parent = value.get("parentCommit")
                if parent and parent != repo.branches[rev]:
                    raise HubError(412, None, f"parentCommit {parent} is not the head of {rev}")
            elif key == "file":
                assert value.get("encoding", "base64") == "base64", value.get("encoding")
                data = base64.b64decode(value["content"])
                self.put_blob(data, git_oid(data))
                files[value["path"]] = Blob(git_oid(data), len(data))
            elif key == "lfsFile":
                if not (self.blobs / value["oid"]).exists():
                    raise HubError(422, None, f"LFS object {value['oid']} was not uploaded")
                files[value["path"]] = Blob(value["oid"], value["size"], lfs=True)
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubError(404, "EntryNotFound", "A file with this name doesn't exist")
            elif key == "deletedFolder":
                files = {p: b for p, b in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
            else:
                raise HubError(400, None, f"commit operation {key!r} is not supported by the test hub")
        commit = repo.add_commit(rev, title, files)
        url = f"{endpoint}/{URL_PREFIX[repo.type]}{repo.id}/commit/{commit.oid}"
        return JSONResponse({"success": True, "commitOid": commit.oid, "commitUrl": url, "pullRequestUrl": None})

    def list_commits(self, repo: Repo, rev: str) -> Response:
        out, commit = [], self.commit(repo, rev)
        while commit is not None:
            out.append({"id": commit.oid, "title": commit.title, "message": "", "date": commit.date,
                        "authors": [{"user": USER}]})
            commit = repo.commits.get(commit.parent) if commit.parent else None
        return JSONResponse(out)

    def refs(self, repo: Repo) -> Response:
        branches = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": c} for b, c in repo.branches.items()]
        return JSONResponse({"branches": branches, "tags": [], "converts": []})

    def create_branch(self, repo: Repo, branch: str, body: dict) -> Response:
        if branch in repo.branches:
            raise HubError(409, None, f"Branch {branch} already exists")
        repo.branches[branch] = self.commit(repo, body.get("startingPoint") or "main").oid
        return JSONResponse({})

    def resolve_file(self, rtype: str, segs: list[str]) -> Response:
        repo_id, rest = self.split_repo(rtype, segs)
        if len(rest) < 3 or rest[0] != "resolve":
            raise HubError(404, None, "unknown endpoint")
        repo = self.repo(rtype, repo_id)
        commit = self.commit(repo, rest[1])
        path = "/".join(rest[2:])
        if path not in commit.files:
            raise HubError(404, "EntryNotFound", f"{path} does not exist on {rest[1]}")
        key = commit.files[path].key  # the Hub's ETag: git oid, or sha256 for LFS files
        headers = {"ETag": f'"{key}"', "X-Repo-Commit": commit.oid}
        return FileResponse(self.blobs / key, headers=headers, media_type="application/octet-stream")

    # -- routing ---------------------------------------------------------------------------------------------
    def route(self, method: str, segs: list[str], params: dict, body: bytes, endpoint: str) -> Response:
        as_json = lambda: json.loads(body or b"{}")  # noqa: E731
        if method == "PUT" and len(segs) == 2 and segs[0] == LFS_UPLOAD:
            return self.lfs_upload(segs[1], body)
        if method == "POST" and segs[-4:] == ["info", "lfs", "objects", "batch"]:  # [type/]repo.git/info/lfs/...
            return self.lfs_batch(as_json(), endpoint)
        if segs[:1] != ["api"]:
            if method in ("GET", "HEAD"):
                if segs[0] in ("datasets", "spaces") and len(segs) > 1:
                    return self.resolve_file(TYPES[segs[0]], segs[1:])
                return self.resolve_file("model", segs)
        elif segs == ["api", "whoami-v2"] and method == "GET":
            if not self.tokens:
                raise HubError(401, None, "Invalid credentials in Authorization header")
            return JSONResponse({"type": "user", "id": "0" * 24, "name": USER, "fullname": "Test User",
                                 "orgs": [], "auth": {"type": "access_token",
                                                      "accessToken": {"displayName": "test", "role": "write"}}})
        elif segs == ["api", "repos", "create"] and method == "POST":
            return self.create_repo(as_json(), endpoint)
        elif segs == ["api", "repos", "delete"] and method == "DELETE":
            return self.delete_repo(as_json())
        elif segs == ["api", "validate-yaml"] and method == "POST":
            return JSONResponse({"errors": [], "warnings": []})
        elif len(segs) >= 3 and segs[1] in TYPES:
            rtype = TYPES[segs[1]]
            repo_id, rest = self.split_repo(rtype, segs[2:])
            repo = self.repo(rtype, repo_id)
            action, args = (rest[0], rest[1:]) if rest else (None, [])
            if method == "GET" and action is None:
                return self.repo_info(repo, "main")
            if method == "GET" and action == "revision" and len(args) == 1:
                return self.repo_info(repo, args[0])
            if method == "GET" and action == "tree" and args:
                recursive = params.get("recursive", "").lower() in ("1", "true")
                return self.tree(repo, args[0], "/".join(args[1:]).strip("/"), recursive)
            if method == "POST" and action == "paths-info" and len(args) == 1:
                if body.lstrip().startswith(b"{"):
                    paths = as_json().get("paths", [])
                else:
                    paths = parse_qs(body.decode()).get("paths", [])
                return self.paths_info(repo, args[0], paths)
            if method == "POST" and action == "preupload" and len(args) == 1:
                return self.preupload(repo, args[0], as_json())
            if method == "POST" and action == "commit" and len(args) == 1:
                return self.do_commit(repo, args[0], body, params, endpoint)
            if method == "GET" and action == "commits" and len(args) == 1:
                return self.list_commits(repo, args[0])
            if method == "GET" and action == "refs":
                return self.refs(repo)
            if method == "POST" and action == "branch" and len(args) == 1:
                return self.create_branch(repo, args[0], as_json())
        raise HubError(404, None, "unknown endpoint")


def create_app(root: Path) -> FastAPI:
    """Build the FastAPI app; its ``HubState`` is ``app.state.hub``."""
    hub = HubState(root)
    app = FastAPI(title="test hub", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.hub = hub

    @app.api_route("/{_path:path}", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
    async def dispatch(request: Request) -> Response:
        raw = request.scope.get("raw_path", request.url.path.encode()).decode().split("?")[0]
        segs = [unquote(s) for s in raw.strip("/").split("/")]
        hub.requests.append((request.method, raw))
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            hub.tokens.append(auth[7:])
        params = {k: v[-1] for k, v in parse_qs(request.url.query).items()}
        body = await request.body()
        try:
            return hub.route(request.method, segs, params, body, str(request.base_url).rstrip("/"))
        except HubError as err:
            if err.message == "unknown endpoint" and raw not in QUIET_404:
                hub.unknown.append((request.method, raw))
                logger.warning("test hub: unknown endpoint %s %s", request.method, raw)
            return err.response()
        except Exception as exc:  # a 400, not a 500: the client retries 5xx with backoff, which only slows tests
            logger.exception("test hub: error in %s %s", request.method, raw)
            return HubError(400, None, f"test hub error: {exc!r}").response()

    return app
