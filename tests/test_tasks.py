"""Tests for surrogate_hub.tasks: the offline suite, the registry and the Unseen-NAS loader."""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import surrogate_hub
from surrogate_hub.tasks import SPLITS, NpyTask, TaskData, TaskError, get_task, list_tasks
from surrogate_hub.tasks.offline import _effective_balance

OFFLINE = list_tasks()
DIGIT_TASKS = ["add-digits", "mult-digits", "tile-digits"]


@functools.cache
def raw(name: str, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A fresh, unnormalised generation of a registered offline task."""
    task = get_task(name, seed=seed)
    return task.generate(np.random.default_rng(seed))


def test_suite_covers_every_modality() -> None:
    assert set(OFFLINE) >= {
        "digits",
        "add-digits",
        "mult-digits",
        "tile-digits",
        "chess-material",
        "synth-language",
        "synth-spectro",
    }


def test_import_does_not_pull_in_torch() -> None:
    code = "import sys, surrogate_hub.tasks; assert 'torch' not in sys.modules, 'torch imported'"
    root = Path(surrogate_hub.__file__).parents[1]  # works installed or from a checkout
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


@pytest.mark.parametrize("name", OFFLINE)
def test_declared_shapes_classes_and_sizes(name: str) -> None:
    task = get_task(name)
    data = task.load()
    assert isinstance(data, TaskData)
    c, h, w = task.input_shape
    assert max(h, w) <= 32
    assert task.description and task.provenance
    assert task.to_dict()["input_shape"] == [c, h, w]
    for split in SPLITS:
        x, y = data.split(split)
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.shape[1:] == task.input_shape and len(x) == len(y) > 0
        assert y.min() >= 0 and y.max() < task.num_classes
        assert np.isfinite(x).all()
    assert len(data.y_train) <= 3000
    assert len(data.y_valid) >= 300 and len(data.y_test) >= 300
    counts = np.bincount(data.y_train, minlength=task.num_classes)
    assert counts.min() >= 0.9 * counts.max(), counts  # balanced


@pytest.mark.parametrize("name", OFFLINE)
def test_train_split_normalisation(name: str) -> None:
    data = get_task(name).load()
    mean = data.x_train.mean(axis=(0, 2, 3))
    std = data.x_train.std(axis=(0, 2, 3))
    np.testing.assert_allclose(mean, 0.0, atol=1e-4)
    np.testing.assert_allclose(std, 1.0, atol=1e-3)
    # Held-out splits use the train statistics: close to, not exactly, standardised.
    assert abs(float(data.x_test.mean())) < 0.2 and 0.7 < float(data.x_test.std()) < 1.3


@pytest.mark.parametrize("name", OFFLINE)
def test_generation_is_deterministic_per_seed(name: str) -> None:
    task = get_task(name)
    fresh = dataclasses.replace(task)  # a new instance: nothing cached
    assert fresh is not task
    first, again = task.load(), fresh.load()
    for field in dataclasses.fields(TaskData):
        np.testing.assert_array_equal(getattr(first, field.name), getattr(again, field.name))
    other = get_task(name, seed=1).load()
    assert not np.array_equal(first.x_train, other.x_train)


@pytest.mark.parametrize("name", OFFLINE)
def test_no_example_is_shared_between_splits(name: str) -> None:
    splits = raw(name)
    seen: dict[bytes, str] = {}
    for split in SPLITS:
        for example in splits[split][0]:
            key = example.tobytes()
            assert seen.setdefault(key, split) == split, (
                f"an example of {split} is also in {seen[key]}"
            )


@pytest.mark.parametrize("name", DIGIT_TASKS)
def test_digit_images_do_not_leak_between_splits(name: str) -> None:
    """Composed tasks are built from disjoint pools of the underlying 8×8 digit images."""
    pools: dict[str, set[bytes]] = {}
    for split, (x, _) in raw(name).items():
        if name == "tile-digits":
            digits = x.reshape(-1, 2, 8, 2, 8).transpose(0, 1, 3, 2, 4).reshape(-1, 8, 8)
        else:
            digits = x.reshape(-1, 8, 8)
        pools[split] = {image.tobytes() for image in digits}
    assert not pools["train"] & pools["valid"]
    assert not pools["train"] & pools["test"]
    assert not pools["valid"] & pools["test"]


def _board(*pieces: tuple[str, int, int]) -> np.ndarray:
    """A 12×8×8 board from (piece letter, row, column); upper case white, lower case black."""
    board = np.zeros((12, 8, 8), dtype=np.float32)
    for letter, row, col in pieces:
        channel = "PNBRQK".index(letter.upper()) + (0 if letter.isupper() else 6)
        board[channel, row, col] = 1
    return board


@pytest.mark.parametrize(
    ("pieces", "balance"),
    [
        ([("K", 0, 0), ("k", 7, 7)], 0),
        ([("Q", 3, 3), ("k", 7, 7)], 9),
        ([("Q", 3, 3), ("p", 4, 4)], -1),  # black pawn on row 4 takes the queen on row 3
        ([("Q", 3, 3), ("P", 2, 4), ("p", 4, 4)], 0),  # ... and the white pawn is not attacked
        ([("Q", 5, 3), ("p", 4, 4)], 8),  # pawns only capture forwards
        ([("r", 4, 4), ("P", 3, 3), ("P", 3, 5)], 2),  # rook taken, both pawns count
        ([("n", 1, 0), ("P", 0, 1)], 1),  # white pawn on the edge of the board still attacks
    ],
)
def test_chess_effective_balance(pieces: list[tuple[str, int, int]], balance: int) -> None:
    assert _effective_balance(_board(*pieces)) == balance


def test_chess_boards_are_plausible() -> None:
    x, _ = raw("chess-material")["train"]
    assert (x.sum(axis=1) <= 1).all()  # at most one piece per square
    assert (x[:, 5].sum(axis=(1, 2)) == 1).all() and (x[:, 11].sum(axis=(1, 2)) == 1).all()
    pawns = x[:, [0, 6]]
    assert pawns[:, :, [0, 7]].sum() == 0  # no pawn on the first or last rank


def test_chess_signed_is_an_invertible_re_encoding_of_chess_material() -> None:
    old, new = raw("chess-material"), raw("chess-signed")
    for split in ("train", "valid", "test"):
        (x, y), (z, labels) = old[split], new[split]
        assert (labels == y).all() and z.shape == x.shape
        signed, occupied = z[:, :6], z[:, 6:]
        assert ((occupied + signed) / 2 == x[:, :6]).all() and ((occupied - signed) / 2 == x[:, 6:]).all()
    # pooled over every square and piece type, the signed planes still tell white's pieces from black's
    x, y = old["train"]
    assert (new["train"][0][:, :6].sum(axis=(1, 2, 3)) == x[:, :6].sum(axis=(1, 2, 3)) - x[:, 6:].sum(axis=(1, 2, 3))).all()


def test_language_words_are_one_hot_rows() -> None:
    x, _ = raw("synth-language")["train"]
    letters_per_row = x[:, 0].sum(axis=2)
    assert set(np.unique(letters_per_row)) == {0.0, 1.0}
    lengths = letters_per_row.sum(axis=1)
    assert lengths.min() >= 8 and lengths.max() <= 16
    # Words are left-aligned: once a row is empty, the rest are.
    assert (np.diff(letters_per_row, axis=1) <= 0).all()


def test_registry_memoises_and_rejects_unknown_names() -> None:
    assert get_task("digits") is get_task("digits")
    assert get_task("digits", seed=1) is not get_task("digits")
    with pytest.raises(TaskError, match=r"unknown task 'cifar10'.*digits.*npy:"):
        get_task("cifar10")


def test_disk_cache_round_trips_through_the_npy_layout(tmp_path) -> None:
    task = get_task("tile-digits", cache_dir=tmp_path)
    cached = task.load()
    folder = tmp_path / "tile-digits-seed0-v1"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{split}_{part}.npy" for split in SPLITS for part in "xy"
    )
    reread = dataclasses.replace(task).load()  # fresh instance: reads the files
    memory = get_task("tile-digits").load()  # no cache dir: generated in memory
    for field in dataclasses.fields(TaskData):
        np.testing.assert_array_equal(getattr(cached, field.name), getattr(memory, field.name))
        np.testing.assert_array_equal(getattr(reread, field.name), getattr(memory, field.name))
    assert get_task(f"npy:{folder}").num_classes == 4


# --------------------------------------------------------------------------------------------------
# NpyTask


def write_task(root, name="toy", shape=(2, 4, 5), sizes=(30, 10, 12), classes=3, seed=0):
    """A valid Unseen-NAS folder of random data; returns the folder."""
    rng = np.random.default_rng(seed)
    folder = root / name
    folder.mkdir(parents=True)
    for split, n in zip(SPLITS, sizes, strict=True):
        np.save(
            folder / f"{split}_x.npy", rng.normal(3.0, 2.0, size=(n, *shape)).astype(np.float32)
        )
        np.save(folder / f"{split}_y.npy", np.arange(n) % classes)
    return folder


def test_npy_task_reads_shape_classes_and_normalises(tmp_path) -> None:
    folder = write_task(tmp_path, classes=3)
    np.save(folder / "test_y.npy", np.full(12, 4))  # a class seen only in the test split counts
    task = NpyTask(tmp_path, "toy")
    assert task.input_shape == (2, 4, 5) and task.num_classes == 5
    data = task.load()
    raw_train = np.load(folder / "train_x.npy")
    mean = raw_train.mean(axis=(0, 2, 3), keepdims=True)
    std = raw_train.std(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(data.x_train, (raw_train - mean) / std, rtol=1e-5, atol=1e-5)
    raw_valid = np.load(folder / "valid_x.npy")
    np.testing.assert_allclose(data.x_valid, (raw_valid - mean) / std, rtol=1e-5, atol=1e-5)
    assert data.y_test.dtype == np.int64 and (data.y_test == 4).all()
    assert task.load() is data  # cached
    assert str(folder) in task.provenance


def test_npy_task_accepts_integer_images_and_column_labels(tmp_path) -> None:
    folder = write_task(tmp_path)
    np.save(
        folder / "train_x.npy", np.random.default_rng(0).integers(0, 255, (30, 2, 4, 5), np.uint8)
    )
    np.save(folder / "train_y.npy", (np.arange(30) % 3).astype(np.float64)[:, None])
    data = get_task(f"npy:{folder}").load()
    assert data.x_train.dtype == np.float32 and data.y_train.shape == (30,)


def test_npy_task_constant_channel_stays_finite(tmp_path) -> None:
    folder = write_task(tmp_path)
    x = np.load(folder / "train_x.npy")
    x[:, 1] = 7.0
    np.save(folder / "train_x.npy", x)
    data = NpyTask(tmp_path, "toy", mmap=False).load()
    assert np.isfinite(data.x_train).all() and (data.x_train[:, 1] == 0).all()


def _missing(folder):
    (folder / "valid_y.npy").unlink()


def _length_mismatch(folder):
    np.save(folder / "train_y.npy", np.zeros(29, dtype=np.int64))


def _three_d(folder):
    np.save(folder / "test_x.npy", np.zeros((12, 4, 5), dtype=np.float32))


def _nan(folder):
    x = np.load(folder / "test_x.npy")
    x[3, 0, 1, 1] = np.nan
    np.save(folder / "test_x.npy", x)


def _inf(folder):
    x = np.load(folder / "train_x.npy")
    x[0, 1, 0, 0] = np.inf
    np.save(folder / "train_x.npy", x)


def _negative(folder):
    np.save(folder / "train_y.npy", np.arange(30) % 3 - 1)


def _non_integer(folder):
    np.save(folder / "valid_y.npy", np.linspace(0, 2, 10))


def _string_labels(folder):
    np.save(folder / "valid_y.npy", np.array(["a"] * 10))


def _shape_mismatch(folder):
    np.save(folder / "valid_x.npy", np.zeros((10, 2, 5, 4), dtype=np.float32))


def _pickled(folder):
    np.save(folder / "test_y.npy", np.array([{"label": 1}] * 12, dtype=object), allow_pickle=True)


def _one_hot(folder):
    np.save(folder / "test_y.npy", np.eye(3)[np.arange(12) % 3])


@pytest.mark.parametrize(
    ("corrupt", "file", "message"),
    [
        (_missing, "valid_y.npy", "missing file"),
        (_length_mismatch, "train_x.npy", "30 examples but .*train_y.npy has 29"),
        (_three_d, "test_x.npy", r"4-D.*x\[:, None\]"),
        (_nan, "test_x.npy", "NaN or infinite"),
        (_inf, "train_x.npy", "NaN or infinite"),
        (_negative, "train_y.npy", "found -1"),
        (_non_integer, "valid_y.npy", "must be integers"),
        (_string_labels, "valid_y.npy", "must be integers"),
        (_shape_mismatch, "valid_x.npy", "share one C×H×W shape"),
        (_pickled, "test_y.npy", "not a readable .npy"),
        (_one_hot, "test_y.npy", "argmax"),
    ],
)
def test_npy_task_bad_folders_name_the_file(tmp_path, corrupt, file, message) -> None:
    corrupt(write_task(tmp_path))
    with pytest.raises(TaskError, match=message) as info:
        NpyTask(tmp_path, "toy").load()
    assert str(tmp_path / "toy" / file) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_npy_task_missing_folder_explains_the_layout(tmp_path) -> None:
    with pytest.raises(TaskError, match=r"no such folder.*\{train,valid,test\}_\{x,y\}\.npy"):
        get_task(f"npy:{tmp_path / 'nope'}")
