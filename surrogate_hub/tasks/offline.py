"""The offline task suite: one small task per Unseen-NAS modality, built without a network.

Every task is generated from ``numpy.random.default_rng(seed)`` alone (plus scikit-learn's bundled
8×8 digits for the digit tasks), takes about a second, and has fixed train/valid/test splits. Tasks
made of digits split the 1,797 digit images into train/valid/test pools first and compose examples
within a pool, so no digit image is shared between splits. Class balance is exact by construction
(labels are drawn first, inputs conditioned on them) except for the 8×8 `digits` task itself, which
keeps the real data's near-uniform class counts.

The function docstrings are the tasks' descriptions (they go into the dataset card).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from surrogate_hub.tasks.base import SPLITS, Task, TaskError, save_npy_layout
from surrogate_hub.tasks.registry import register_task

Splits = dict[str, tuple[np.ndarray, np.ndarray]]
SplitGenerator = Callable[[np.random.Generator], Splits]

#: Examples per split of the composed / procedural tasks.
SIZES: dict[str, int] = {"train": 2000, "valid": 500, "test": 500}


@dataclass(frozen=True)
class GeneratedTask(Task):
    """A task whose splits are produced by ``generate(numpy.random.default_rng(seed))``.

    With ``cache_dir`` set, the raw (unnormalised) splits are also written once to
    ``{cache_dir}/{name}-seed{seed}-v{version}/`` in the Unseen-NAS layout and read from there
    afterwards; that folder can be loaded with ``get_task("npy:...")`` or by einspace's own code.
    """

    name: str
    input_shape: tuple[int, int, int]
    num_classes: int
    generate: SplitGenerator = field(repr=False)
    seed: int = 0
    description: str = ""
    provenance: str = ""
    version: int = 1  # bump when the generator's output changes, to invalidate disk caches
    cache_dir: Path | None = None

    def _raw_splits(self) -> tuple[Splits, dict[str, str]]:
        if self.cache_dir is None:
            sources = {
                split: f"task {self.name!r} (seed {self.seed}) {split} split" for split in SPLITS
            }
            return self._generate(), sources
        from surrogate_hub.tasks.npy import NpyTask

        folder = Path(self.cache_dir) / f"{self.name}-seed{self.seed}-v{self.version}"
        if not folder.is_dir():
            save_npy_layout(self._generate(), folder)
        return NpyTask(folder.parent, folder.name)._raw_splits()

    def _generate(self) -> Splits:
        splits = self.generate(np.random.default_rng(self.seed))
        for split, (x, y) in splits.items():  # guards against generator bugs
            if x.shape[1:] != self.input_shape or len(x) != len(y):
                raise TaskError(f"{self.name} {split}: generated {x.shape}, {y.shape}")
            if y.min() < 0 or y.max() >= self.num_classes:
                raise TaskError(f"{self.name} {split}: labels outside [0, {self.num_classes})")
        return splits


def _offline_task(
    name: str,
    *,
    input_shape: tuple[int, int, int],
    num_classes: int,
    provenance: str,
    version: int = 1,
) -> Callable[[SplitGenerator], SplitGenerator]:
    """Register ``generate`` as task ``name``; its docstring becomes the task's description."""

    def decorate(generate: SplitGenerator) -> SplitGenerator:
        description = " ".join(inspect.cleandoc(generate.__doc__ or "").split())

        @register_task(name)
        def factory(seed: int = 0, cache_dir: str | Path | None = None) -> GeneratedTask:
            return GeneratedTask(
                name=name,
                input_shape=input_shape,
                num_classes=num_classes,
                generate=generate,
                seed=seed,
                description=description,
                provenance=provenance,
                version=version,
                cache_dir=None if cache_dir is None else Path(cache_dir),
            )

        return generate

    return decorate


# --------------------------------------------------------------------------------------------------
# Digits: the real 8×8 handwritten digits bundled with scikit-learn, and tasks composed from them.

_DIGITS_PROVENANCE = (
    "scikit-learn `load_digits` (the UCI ML hand-written digits test set, 1,797 images of 8×8 "
    "pixels with intensities 0–16, bundled with scikit-learn), split and composed with "
    "numpy.random.default_rng(seed) by surrogate_hub.tasks.offline."
)
_POOL_FRACTIONS = {"train": 0.6, "valid": 0.2, "test": 0.2}


def _digit_pools(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Stratified split of the 1,797 digit images into disjoint train/valid/test pools, 60/20/20."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images.astype(np.float32), digits.target.astype(np.int64)
    parts: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        n_train = round(_POOL_FRACTIONS["train"] * len(idx))
        n_valid = round(_POOL_FRACTIONS["valid"] * len(idx))
        parts["train"].append(idx[:n_train])
        parts["valid"].append(idx[n_train : n_train + n_valid])
        parts["test"].append(idx[n_train + n_valid :])
    pools = {}
    for split in SPLITS:
        idx = rng.permutation(np.concatenate(parts[split]))
        pools[split] = (images[idx], labels[idx])
    return pools


def _draw_images(
    pool: tuple[np.ndarray, np.ndarray], digits: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One random pool image of each requested digit class (any shape of ``digits``)."""
    images, labels = pool
    out = np.empty(digits.shape + images.shape[1:], dtype=np.float32)
    for digit in range(10):
        where = digits == digit
        candidates = np.flatnonzero(labels == digit)
        out[where] = images[rng.choice(candidates, size=int(where.sum()))]
    return out


def _balanced_labels(n: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % num_classes).astype(np.int64)


def _compose_triples(
    rng: np.random.Generator,
    num_classes: int,
    label_of: Callable[[tuple[int, int, int]], int | None],
) -> Splits:
    """Three digit images as three channels; the label is a function of the three digit classes.

    Labels are balanced; given a label, the ordered digit triple is uniform among those with it.
    """
    triples_by_label: dict[int, list[tuple[int, int, int]]] = {}
    for triple in itertools.product(range(10), repeat=3):
        label = label_of(triple)
        if label is not None:
            triples_by_label.setdefault(label, []).append(triple)
    assert sorted(triples_by_label) == list(range(num_classes))
    options = [np.array(triples_by_label[label]) for label in range(num_classes)]
    pools = _digit_pools(rng)
    splits: Splits = {}
    for split in SPLITS:
        y = _balanced_labels(SIZES[split], num_classes, rng)
        triples = np.stack([options[label][rng.integers(len(options[label]))] for label in y])
        splits[split] = (_draw_images(pools[split], triples, rng), y)
    return splits


@_offline_task("digits", input_shape=(1, 8, 8), num_classes=10, provenance=_DIGITS_PROVENANCE)
def _digits(rng: np.random.Generator) -> Splits:
    """Real handwritten digits at 8×8 pixels, 10 classes: the offline stand-in for MNIST. The 1,797
    images are split per class 60/20/20 into train (1,078), valid (359) and test (360). Easy for any
    reasonable network; it mainly separates working architectures from broken ones."""
    return {split: (x[:, None], y) for split, (x, y) in _digit_pools(rng).items()}


@_offline_task("add-digits", input_shape=(3, 8, 8), num_classes=20, provenance=_DIGITS_PROVENANCE)
def _add_digits(rng: np.random.Generator) -> Splits:
    """Offline analogue of AddNIST: three real 8×8 digit images stacked as the three channels; the
    label is the sum of the three digits minus 4, restricted to sums 4–23 (20 classes, balanced;
    given its sum, the ordered digit triple is uniform). The network has to read each channel
    separately and combine the readings, which a linear model cannot do. 2,000 train, 500 valid,
    500 test examples, composed from disjoint image pools."""
    return _compose_triples(rng, 20, lambda t: sum(t) - 4 if 4 <= sum(t) <= 23 else None)


@_offline_task("mult-digits", input_shape=(3, 8, 8), num_classes=10, provenance=_DIGITS_PROVENANCE)
def _mult_digits(rng: np.random.Generator) -> Splits:
    """Offline analogue of MultNIST: three real 8×8 digit images stacked as the three channels; the
    label is the product of the three digits modulo 10 (10 classes, balanced; given its label, the
    ordered digit triple is uniform). Strongly non-linear in the digit identities. 2,000 train,
    500 valid, 500 test examples, composed from disjoint image pools."""
    return _compose_triples(rng, 10, lambda t: (t[0] * t[1] * t[2]) % 10)


@_offline_task("tile-digits", input_shape=(1, 16, 16), num_classes=4, provenance=_DIGITS_PROVENANCE)
def _tile_digits(rng: np.random.Generator) -> Splits:
    """Offline analogue of CIFARTile: a 2×2 mosaic of real 8×8 digit images (16×16 pixels); the
    label is the number of distinct digit classes among the four tiles minus one (4 classes,
    balanced). Given the label k, k distinct digit classes are drawn and spread over the tiles so
    that each appears at least once. Solving it needs recognising and comparing the tiles, not just
    detecting features. 2,000 train, 500 valid, 500 test examples, composed from disjoint image
    pools."""
    pools = _digit_pools(rng)
    splits: Splits = {}
    for split in SPLITS:
        y = _balanced_labels(SIZES[split], 4, rng)
        tiles = np.empty((len(y), 4), dtype=np.int64)
        for i, label in enumerate(y):
            classes = rng.choice(10, size=label + 1, replace=False)
            assignment = np.concatenate([classes, rng.choice(classes, size=3 - label)])
            tiles[i] = rng.permutation(assignment)
        images = _draw_images(pools[split], tiles, rng)  # N×4×8×8, tiles in reading order
        mosaic = (
            images.reshape(len(y), 2, 2, 8, 8).transpose(0, 1, 3, 2, 4).reshape(len(y), 1, 16, 16)
        )
        splits[split] = (mosaic, y)
    return splits


# --------------------------------------------------------------------------------------------------
# Chess: random boards, label from material after pawn captures.

_PIECE_VALUES = np.array([1, 3, 3, 5, 9, 0])  # pawn, knight, bishop, rook, queen, king
_MAX_COUNTS = np.array([8, 2, 2, 2, 1, 1])
_CHESS_THRESHOLD = 3  # |effective balance| < 3 is "level"


def _random_board(rng: np.random.Generator) -> np.ndarray:
    """12×8×8 one-hot board (white P N B R Q K, then black), random legal-looking piece counts."""
    board = np.zeros((12, 8, 8), dtype=np.float32)
    counts = rng.integers(0, _MAX_COUNTS + 1, size=(2, 6))
    counts[:, 5] = 1  # one king each
    pieces = [
        (side * 6 + kind)
        for side in range(2)
        for kind in range(6)
        for _ in range(counts[side, kind])
    ]
    # Pawns never stand on the first or last rank: place them first, on ranks 2–7.
    pieces.sort(key=lambda channel: channel % 6 != 0)
    free = np.ones((8, 8), dtype=bool)
    for channel in pieces:
        allowed = free.copy()
        if channel % 6 == 0:
            allowed[[0, 7]] = False
        square = rng.choice(np.flatnonzero(allowed))
        board[channel].flat[square] = 1
        free.flat[square] = False
    return board


def _effective_balance(board: np.ndarray) -> int:
    """White minus black material, not counting pieces attacked by an enemy pawn.

    Row 0 is the first rank: white pawns attack diagonally towards higher rows, black pawns lower.
    """
    white_attacks = _pawn_attacks(board[0].astype(bool), forward=+1)
    black_attacks = _pawn_attacks(board[6].astype(bool), forward=-1)
    white = board[:6].transpose(1, 2, 0) @ _PIECE_VALUES
    black = board[6:].transpose(1, 2, 0) @ _PIECE_VALUES
    return int(white[~black_attacks].sum() - black[~white_attacks].sum())


def _pawn_attacks(pawns: np.ndarray, forward: int) -> np.ndarray:
    """Squares attacked by the pawns of an 8×8 boolean board moving towards row + ``forward``."""
    ahead = np.zeros_like(pawns)
    if forward > 0:
        ahead[1:] = pawns[:-1]
    else:
        ahead[:-1] = pawns[1:]
    attacked = np.zeros_like(pawns)
    attacked[:, 1:] |= ahead[:, :-1]
    attacked[:, :-1] |= ahead[:, 1:]
    return attacked


@_offline_task(
    "chess-material",
    input_shape=(12, 8, 8),
    num_classes=3,
    provenance=(
        "Procedural: random chess piece placements generated with numpy.random.default_rng(seed) "
        "by surrogate_hub.tasks.offline (no game data)."
    ),
)
def _chess_material(rng: np.random.Generator) -> Splits:
    """Offline analogue of Chesseract: 8×8 boards with one channel per piece type and colour (12
    channels). Each side has a king and random numbers of pawns (0–8, never on the first or last
    rank), knights, bishops, rooks (0–2 each) and a queen (0–1) on random squares. The label says
    who is ahead on material after every piece attacked by an enemy pawn is taken off (pawn 1,
    knight and bishop 3, rook 5, queen 9): black ahead by 3 or more, level (within 2), or white
    ahead by 3 or more (3 classes, balanced by rejection). Plain material is linear in the input;
    the pawn-capture rule makes it local and non-linear. 2,000 train, 500 valid, 500 test
    examples."""
    splits: Splits = {}
    for split in SPLITS:
        per_class = -(-SIZES[split] // 3)
        boards: list[list[np.ndarray]] = [[], [], []]
        while min(len(b) for b in boards) < per_class:
            board = _random_board(rng)
            balance = _effective_balance(board)
            label = 0 if balance <= -_CHESS_THRESHOLD else 2 if balance >= _CHESS_THRESHOLD else 1
            if len(boards[label]) < per_class:
                boards[label].append(board)
        x = np.stack([b for label_boards in boards for b in label_boards])
        y = np.repeat(np.arange(3), per_class)
        order = rng.permutation(len(y))[: SIZES[split]]
        splits[split] = (x[order], y[order])
    return splits


# --------------------------------------------------------------------------------------------------
# Language: words from random letter-level Markov chains, one-hot encoded.

_LANGUAGES = 10
_ALPHABET = 26
_WORD_LENGTH = (8, 16)  # min, max letters; the image has one row per letter position


def _language_chains(
    rng: np.random.Generator, mix: tuple[float, float, float] = (0.3, 0.3, 0.4), letter_alpha: float = 1.0
) -> np.ndarray:
    """Transition matrices (languages × 26 × 26) that overlap, so no single cue decides.

    Each language mixes three chains (weights ``mix``): a random chain shared by all languages, a
    preference for letters independent of the previous one (Dirichlet ``letter_alpha``; the only
    cue a letter-count model can use) and a language-specific doubly stochastic chain (a random
    mixture of three permutations, so it favours particular letter pairs without changing letter
    frequencies).
    """
    shared = rng.dirichlet(np.full(_ALPHABET, 0.3), size=_ALPHABET)
    chains = np.empty((_LANGUAGES, _ALPHABET, _ALPHABET))
    for lang in range(_LANGUAGES):
        letters = rng.dirichlet(np.full(_ALPHABET, letter_alpha))
        weights = rng.dirichlet(np.ones(3))
        pairs = sum(w * np.eye(_ALPHABET)[rng.permutation(_ALPHABET)] for w in weights)
        chains[lang] = mix[0] * shared + mix[1] * letters[None, :] + mix[2] * pairs
    return chains


@_offline_task(
    "synth-language",
    input_shape=(1, _WORD_LENGTH[1], _ALPHABET),
    num_classes=_LANGUAGES,
    provenance=(
        "Procedural: ten random letter-level Markov chains and the words sampled from them, "
        "generated with numpy.random.default_rng(seed) by surrogate_hub.tasks.offline."
    ),
)
def _synth_language(rng: np.random.Generator) -> Splits:
    """Offline analogue of Language: words of 8–16 letters sampled from ten synthetic "languages",
    each a first-order Markov chain over 26 letters, encoded as a 16×26 one-hot image (row i =
    letter i, rows after the word's end are zero); the label is the language (10 classes, balanced).
    The languages share part of their transition probabilities; letter frequencies differ only
    mildly, and most of the evidence is in which letters follow which (letter pairs), which a linear
    model on the one-hot image cannot use. 2,000 train, 500 valid, 500 test examples."""
    return _markov_words(_language_chains(rng), rng)


# --------------------------------------------------------------------------------------------------
# Spectrograms: procedural notes rendered to audio, short-time Fourier transformed.

_SAMPLE_RATE = 4000
_N_FFT = 64  # 62.5 Hz bins; the 32 lowest frequency bins (0–1,937 Hz) are kept
_HOP = 64
_FRAMES = 32
_STYLES = ("sustained", "staccato", "vibrato", "chords")


def _render(style: str, rng: np.random.Generator) -> np.ndarray:
    """A waveform in one playing style: harmonic notes with random pitch, timbre, loudness."""
    n = _HOP * (_FRAMES - 1) + _N_FFT
    t = np.arange(n) / _SAMPLE_RATE
    signal = np.zeros(n)
    n_notes = rng.integers(4, 8) if style == "staccato" else rng.integers(1, 3)
    onsets = np.sort(rng.choice(np.arange(1, n - 1), size=n_notes - 1, replace=False))
    for start, stop in zip(
        np.concatenate([[0], onsets]), np.concatenate([onsets, [n]]), strict=True
    ):
        length = stop - start
        if style == "staccato":  # 30–60 ms notes, then silence until the next onset
            length = min(length, int(rng.uniform(0.03, 0.06) * _SAMPLE_RATE))
        local = t[:length]
        envelope = np.minimum(1.0, local / 0.01) * np.exp(-local * rng.uniform(0.5, 4.0))
        pitches = [rng.uniform(110, 440)]
        if style == "chords":  # two or three notes at consonant intervals
            ratios = rng.choice(
                [5 / 4, 6 / 5, 4 / 3, 3 / 2], size=rng.integers(1, 3), replace=False
            )
            pitches += [pitches[0] * r for r in ratios]
        n_harmonics, rolloff = rng.integers(2, 7), rng.uniform(0.5, 1.5)
        for pitch in pitches:
            phase = 2 * np.pi * pitch * local
            if style == "vibrato":  # periodic pitch modulation of 3–8 %
                rate, depth = rng.uniform(5, 12), rng.uniform(0.03, 0.08)
                phase += depth * pitch / rate * np.sin(2 * np.pi * rate * local)
            for h in range(1, n_harmonics + 1):
                note = envelope * np.sin(h * phase + rng.uniform(0, 2 * np.pi)) / h**rolloff
                signal[start : start + length] += note
    signal *= rng.uniform(0.3, 1.0) / max(1e-9, np.abs(signal).max())
    return signal + rng.normal(0, rng.uniform(0.01, 0.1), size=n)


def _spectrogram(signal: np.ndarray) -> np.ndarray:
    """log(1 + |STFT|) with a Hann window: 32 frequency bins × 32 frames."""
    frames = np.lib.stride_tricks.sliding_window_view(signal, _N_FFT)[::_HOP][:_FRAMES]
    magnitude = np.abs(np.fft.rfft(frames * np.hanning(_N_FFT), axis=1))[:, :32]
    return np.log1p(magnitude).T.astype(np.float32)  # frequency (low first) × time


@_offline_task(
    "synth-spectro",
    input_shape=(1, 32, 32),
    num_classes=len(_STYLES),
    provenance=(
        "Procedural: synthesised audio (harmonic notes, envelopes, vibrato, chords, noise) and its "
        "short-time Fourier transform, generated with numpy.random.default_rng(seed) by "
        "surrogate_hub.tasks.offline."
    ),
)
def _synth_spectro(rng: np.random.Generator) -> Splits:
    """Offline analogue of Isabella (music spectrograms by era): 0.5 s of synthesised audio at
    4 kHz as a 32×32 log-magnitude spectrogram (frequency × time, Hann window of 64 samples, hop
    64).
    The four classes are playing styles: sustained notes, staccato runs, notes with vibrato, and
    chords; pitch (110–440 Hz), number and loudness of harmonics, envelopes, onsets, loudness and
    background noise are random, so average spectra overlap and the classes differ in
    time-frequency patterns. 2,000 train, 500 valid, 500 test examples, balanced."""
    splits: Splits = {}
    for split in SPLITS:
        y = _balanced_labels(SIZES[split], len(_STYLES), rng)
        x = np.stack([_spectrogram(_render(_STYLES[label], rng)) for label in y])[:, None]
        splits[split] = (x, y)
    return splits


def _markov_words(chains: np.ndarray, rng: np.random.Generator) -> Splits:
    """Balanced splits of words sampled from per-language Markov ``chains`` (languages × 26 × 26),
    lengths 8–16, one-hot encoded as 16×26 images (row i = letter i; rows after the end are zero)."""
    cumulative = chains.cumsum(axis=2)
    splits: Splits = {}
    for split in SPLITS:
        y = _balanced_labels(SIZES[split], len(chains), rng)
        lengths = rng.integers(_WORD_LENGTH[0], _WORD_LENGTH[1] + 1, size=len(y))
        x = np.zeros((len(y), 1, _WORD_LENGTH[1], _ALPHABET), dtype=np.float32)
        letters = rng.integers(_ALPHABET, size=len(y))
        uniforms = rng.random((len(y), _WORD_LENGTH[1]))
        for pos in range(_WORD_LENGTH[1]):
            if pos > 0:
                rows = cumulative[y, letters]  # N×26 cumulative transition rows
                letters = np.minimum((rows < uniforms[:, pos, None]).sum(axis=1), _ALPHABET - 1)
            active = pos < lengths
            x[np.flatnonzero(active), 0, pos, letters[active]] = 1.0
        splits[split] = (x, y)
    return splits
