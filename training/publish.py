"""Publish surrogates and the corpus to a Hub endpoint (the real Hub, or any compatible server).

    HF_TOKEN=... python training/publish.py model surrogate_hub/pretrained/einspace-graf-xgb --repo-id ORG/einspace-graf-xgb
    HF_TOKEN=... python training/publish.py corpus corpus/einspace-offline-v1 --repo-id ORG/einspace-offline-corpus-v1

The token comes from the environment (``HF_TOKEN``) or the ``huggingface_hub`` login; set
``HF_ENDPOINT`` for another Hub. A model folder is validated by loading it before upload; a corpus
folder gets its dataset card (re)rendered first.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def publish_model(folder: Path, repo_id: str, *, private: bool = False, revision: str | None = None) -> str:
    from huggingface_hub import HfApi

    from surrogate_hub.surrogates.registry import load_surrogate

    load_surrogate(str(folder))  # refuse to publish what we cannot load back
    api = HfApi()
    api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
    info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="model", revision=revision,
                             commit_message=f"Upload surrogate from {folder.name}")
    return info.oid


def publish_corpus(folder: Path, repo_id: str, *, private: bool = False, revision: str | None = None) -> str:
    from huggingface_hub import HfApi

    from surrogate_hub.corpus.card import write_card

    write_card(folder)
    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)
    info = api.upload_folder(
        repo_id=repo_id, folder_path=str(folder), repo_type="dataset", revision=revision,
        allow_patterns=["README.md", "config.resolved.yaml", "plan.jsonl", "data/shard-*.parquet", "zcp/zcp-*.parquet", "report/*"],
        commit_message=f"Upload corpus {folder.name}",
    )
    return info.oid


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=["model", "corpus"])
    p.add_argument("folder", type=Path)
    p.add_argument("--repo-id", required=True)
    p.add_argument("--private", action="store_true")
    p.add_argument("--revision", default=None, help="branch to commit to (default: main)")
    args = p.parse_args(argv)
    if not args.folder.is_dir():
        p.error(f"{args.folder} is not a folder")
    publish = publish_model if args.kind == "model" else publish_corpus
    print(publish(args.folder, args.repo_id, private=args.private, revision=args.revision))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
