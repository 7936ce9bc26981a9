"""surrogate-hub Space: predict, rank, design and explore einspace architectures in the browser.

Run locally with ``python space_app/app.py`` (http://127.0.0.1:7860). Every number on the page comes
from the ``surrogate_hub`` library; this file only wires it to Gradio components.

Environment variables (all optional):

``SURROGATE_HUB_SURROGATES``
    comma-separated surrogates to load besides the registered ones (names, local folders or Hub
    repo ids such as ``org/my-surrogate``); the embedded ``einspace-graf-xgb`` needs no network.
``SURROGATE_HUB_CORPUS``
    the corpus shown in Explore: a local corpus folder or a Hub dataset repo id (default: the
    repository's ``corpus/einspace-offline-v2`` when present, else the published corpus v2).
``SURROGATE_HUB_EVALUATION``
    a ``surrogates.json`` evaluation file (default: the repository's
    ``benchmarks/results/surrogates.json``; otherwise the metrics stored in each surrogate's config).
``SURROGATE_HUB_MAX_CHARS``, ``SURROGATE_HUB_MAX_LINES``, ``SURROGATE_HUB_MAX_STEPS``,
``SURROGATE_HUB_MAX_OP_INSTANCES``, ``SURROGATE_HUB_REQUEST_SECONDS``
    per-request limits (characters of one architecture, lines to rank, design steps, op instances
    of one architecture, seconds of surrogate work in one request).
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
from explore import CorpusView, evaluation_table  # space_app/explore.py (the Space runs from this folder)
from PIL import Image

from surrogate_hub.cli.space import describe
from surrogate_hub.design import design, plot_trace
from surrogate_hub.features.draw import draw_architecture, figure_png
from surrogate_hub.percentile import ReferenceScores, reference_scores
from surrogate_hub.space import ArchitectureError, parse, sample, to_string
from surrogate_hub.space.seeds import list_seeds, seed_string
from surrogate_hub.surrogates import list_surrogates, load_surrogate
from surrogate_hub.surrogates.registry import DEFAULT_SURROGATE

log = logging.getLogger("surrogate_hub.space_app")

TITLE = "surrogate-hub: predict how well an einspace architecture will train"
REPO_ROOT = Path(__file__).resolve().parents[1]
TAB_IDS = ("predict", "rank", "design", "explore")
INTRO = """\
# surrogate-hub
Pretrained **surrogates** estimate how well a neural architecture from the
[einspace](https://arxiv.org/abs/2410.06004) search space will train on a task, from its structure
alone, in milliseconds, without training it ([Qin, Kadlecová et al., AutoML 2025](https://arxiv.org/abs/2504.12971)).
A score is a *rank estimate*: higher means the architecture is expected to rank higher among
architectures trained on the same task. Set the task's input shape and class count once; it applies
to Predict, Rank and Design.
"""


# ----------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Limits:
    """Work allowed per request, so that one visitor cannot stall the Space."""

    max_chars: int = 20_000  #: characters of one architecture string
    max_lines: int = 2_000  #: architectures in one ranking
    max_total_chars: int = 2_000_000  #: characters of one ranking input
    max_steps: int = 2_000  #: design steps
    request_seconds: float = 20.0  #: surrogate work in one request (ranking, design)
    reference_samples: int = 500  #: random architectures behind the percentile reading
    max_op_instances: int = 5_000  #: terminal-op instances (branching copies multiply) of one architecture
    max_drawn: int = 2_000  #: op instances drawn in a picture
    max_side: int = 512  #: largest channel count / height / width
    max_classes: int = 10_000


@dataclass(frozen=True)
class AppConfig:
    extra_surrogates: tuple[str, ...] = ()
    corpus: str | None = None  #: folder or Hub dataset id; None: the default
    evaluation: Path | None = None
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> AppConfig:
        env = dict(os.environ if env is None else env)
        extra = tuple(s.strip() for s in env.get("SURROGATE_HUB_SURROGATES", "").split(",") if s.strip())
        limits = Limits()
        for var, name, kind in (
            ("SURROGATE_HUB_MAX_CHARS", "max_chars", int),
            ("SURROGATE_HUB_MAX_LINES", "max_lines", int),
            ("SURROGATE_HUB_MAX_STEPS", "max_steps", int),
            ("SURROGATE_HUB_MAX_OP_INSTANCES", "max_op_instances", int),
            ("SURROGATE_HUB_REQUEST_SECONDS", "request_seconds", float),
        ):
            if env.get(var):
                try:
                    value = kind(env[var])
                except ValueError:
                    raise SystemExit(f"error: {var} must be a number, got {env[var]!r}") from None
                if value <= 0:
                    raise SystemExit(f"error: {var} must be positive, got {env[var]!r}")
                limits = replace(limits, **{name: value})
        evaluation = env.get("SURROGATE_HUB_EVALUATION")
        return cls(extra, env.get("SURROGATE_HUB_CORPUS") or None, Path(evaluation) if evaluation else None, limits)


# -------------------------------------------------------------------------------- surrogates
@dataclass
class LoadedSurrogate:
    name: str
    model: Any
    seconds_per_arch: float  #: measured at start-up, sets how much one request may ask of it


def load_surrogates(extra: Sequence[str]) -> tuple[dict[str, LoadedSurrogate], dict[str, str]]:
    """Every registered surrogate (the default first) plus ``extra``, keeping those that load and
    can score architectures; the others are returned with the reason."""
    loaded: dict[str, LoadedSurrogate] = {}
    failed: dict[str, str] = {}
    probe = [sample((3, 32, 32), rng=i) for i in range(16)]
    for name in dict.fromkeys([DEFAULT_SURROGATE, *list_surrogates(), *extra]):
        try:
            model = load_surrogate(name)
            needs = tuple(getattr(model, "zcp_names", ()))
            if needs:
                failed[name] = (f"needs zero-cost proxies ({', '.join(needs)}) computed by running each network "
                                "on a batch of the task's data; this Space scores from the structure alone")
                continue
            start = time.perf_counter()
            model.predict(probe, input_shape=(3, 32, 32), num_classes=10, errors="nan")
            per_arch = (time.perf_counter() - start) / len(probe)
        except Exception as err:  # noqa: BLE001 - shown to the visitor, the app still starts
            failed[name] = f"{type(err).__name__}: {err}"
            log.warning("surrogate %s not available: %s", name, failed[name])
            continue
        loaded[name] = LoadedSurrogate(name, model, per_arch)
    return loaded, failed


# ---------------------------------------------------------------------------------- helpers
def task_presets() -> dict[str, tuple[tuple[int, int, int], int]]:
    """Input shape and class count of common tasks and of the offline task suite."""
    from surrogate_hub.tasks import get_task, list_tasks

    presets = {
        "CIFAR-10-like images (3×32×32, 10 classes)": ((3, 32, 32), 10),
        "CIFAR-100-like images (3×32×32, 100 classes)": ((3, 32, 32), 100),
        "MNIST-like images (1×28×28, 10 classes)": ((1, 28, 28), 10),
        "ImageNet-64-like images (3×64×64, 1000 classes)": ((3, 64, 64), 1000),
    }
    for name in list_tasks():
        task = get_task(name)
        shape = tuple(task.input_shape)
        presets[f"corpus task {name} ({'×'.join(map(str, shape))}, {task.num_classes} classes)"] = (shape, task.num_classes)
    return presets


def parse_shape(text: str, classes: Any, limits: Limits) -> tuple[tuple[int, int, int], int]:
    """The task's (C, H, W) and class count from the form, or a ``gr.Error`` saying what to fix."""
    try:
        shape = tuple(int(p) for p in str(text).replace("×", ",").replace("x", ",").split(","))
    except ValueError:
        raise gr.Error(f"Input shape must be three integers C,H,W such as 3,32,32; got {text!r}.") from None
    if len(shape) != 3 or min(shape) < 1 or max(shape) > limits.max_side:
        raise gr.Error(f"Input shape must be three integers C,H,W between 1 and {limits.max_side}; got {text!r}.")
    try:
        k = int(classes)
    except (TypeError, ValueError):
        raise gr.Error(f"Classes must be a whole number; got {classes!r}.") from None
    if not 1 <= k <= limits.max_classes or k != float(classes):
        raise gr.Error(f"Classes must be a whole number between 1 and {limits.max_classes}; got {classes!r}.")
    return shape, k  # type: ignore[return-value]


def check_architecture(text: str, shape: tuple[int, int, int], k: int, limits: Limits) -> dict:
    """Parse ``text`` and infer its shapes: ``{"arch", "n_params", "flops", "instances"}``, or
    ``{"error": "Type: message"}`` when it does not parse, does not fit ``shape`` or has more op
    instances than ``limits.max_op_instances`` (each instance costs work in every request)."""
    from surrogate_hub.space import flops, infer, n_params

    try:
        arch = parse(text)
        instances = sum(o.mult for o in infer(arch, shape).iter_ops())
        if instances > limits.max_op_instances:
            return {"error": f"TooLarge: {instances:,} op instances (branching copies included); this Space "
                             f"accepts at most {limits.max_op_instances:,}"}
        return {"arch": arch, "n_params": n_params(arch, shape, k), "flops": flops(arch, shape, k),
                "instances": instances, "error": None}
    except ArchitectureError as err:
        return {"error": f"{type(err).__name__}: {err}"}


def invalid_message(error: str, shape: Sequence[int]) -> str:
    """Why an architecture string was refused, from the library's ``Type: message`` error text."""
    if error.startswith("ParseError"):
        return f"This is not an einspace architecture in compact notation: {error}"
    if error.startswith("TooLarge"):
        return f"This architecture is too large for this Space: {error.partition(': ')[2]}."
    return f"This architecture does not fit {'×'.join(map(str, shape))} inputs: {error}"


def png_image(fig) -> Image.Image:
    return Image.open(io.BytesIO(figure_png(fig, max_pixels=2400)))


def fmt_int(n: Any) -> str:
    return "–" if n is None else f"{int(n):,}"


def short(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# -------------------------------------------------------------------------------------- app
class SpaceApp:
    """The state behind the page: loaded surrogates, their percentile references, the corpus."""

    def __init__(self, config: AppConfig | None = None) -> None:
        self.config = config or AppConfig.from_env()
        self.limits = self.config.limits
        started = time.perf_counter()
        self.surrogates, self.failed = load_surrogates(self.config.extra_surrogates)
        if not self.surrogates:
            raise RuntimeError(f"no surrogate could be loaded: {self.failed}")
        self.presets = task_presets()
        self._downloads = tempfile.TemporaryDirectory(prefix="surrogate-hub-space-")
        self.corpus = CorpusView.load(self.config.corpus, REPO_ROOT)
        self.evaluation = evaluation_table(self.config.evaluation, REPO_ROOT, self.surrogates)
        self.startup_seconds = time.perf_counter() - started

    # -- shared ---------------------------------------------------------------------------
    def surrogate(self, name: str) -> LoadedSurrogate:
        if name not in self.surrogates:
            raise gr.Error(f"Unknown surrogate {name!r}; available: {', '.join(self.surrogates)}.")
        return self.surrogates[name]

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one app object per process
    def reference(self, name: str, shape: tuple[int, int, int], classes: int) -> ReferenceScores:
        """Scores of random architectures for this task shape, as many as fit a few seconds."""
        sur = self.surrogates[name]
        n = int(min(self.limits.reference_samples, max(50, 5.0 / max(sur.seconds_per_arch, 1e-6))))
        return reference_scores(sur.model, shape, classes, n=n, seed=0)

    def check_arch_text(self, text: str) -> str:
        text = (text or "").strip()
        if not text:
            raise gr.Error("Paste an architecture in einspace's compact notation, pick a seed architecture or sample one.")
        if len(text) > self.limits.max_chars:
            raise gr.Error(f"The architecture is {len(text):,} characters long; this Space accepts at most {self.limits.max_chars:,}.")
        return text

    # -- predict --------------------------------------------------------------------------
    def predict(self, arch_text: str, shape_text: str, classes: Any):
        shape, k = parse_shape(shape_text, classes, self.limits)
        text = self.check_arch_text(arch_text)
        return self._predict_cached(text, shape, k)

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def _predict_cached(self, text: str, shape: tuple[int, int, int], k: int):
        checked = check_architecture(text, shape, k, self.limits)
        if checked["error"]:
            raise gr.Error(invalid_message(checked["error"], shape))
        arch = checked["arch"]
        info = describe(text, shape, k)
        rows = []
        for name, sur in self.surrogates.items():
            try:
                score = float(sur.model.predict([arch], input_shape=shape, num_classes=k)[0])
                ref = self.reference(name, shape, k)
                rows.append([name, round(score, 4), round(ref.percentile(score), 1), ref.describe(score)])
            except Exception as err:  # noqa: BLE001 - one surrogate failing must not hide the others
                rows.append([name, None, None, f"not available for this input: {type(err).__name__}: {short(str(err), 200)}"])
        table = pd.DataFrame(rows, columns=["surrogate", "score", "percentile", "reading"])
        readings = "\n".join(
            f"- **{r[0]}**: " + (f"score {r[1]:.3f}, percentile {r[2]:.0f}. {r[3]}." if r[1] is not None else r[3])
            for r in rows
        )
        n_ref = self.reference(next(iter(self.surrogates)), shape, k).n
        summary = (
            f"### What the surrogates expect\n{readings}\n\n"
            f"<small>The percentile places the score among {n_ref} random einspace architectures for this input "
            f"shape, scored by the same surrogate: it is the surrogate's estimate, not a measurement.</small>\n\n"
            f"### Size and shapes\n**{fmt_int(info['n_params'])} parameters**, **{fmt_int(info['flops'])} FLOPs** "
            f"(multiply-accumulates per example, classification head included). Backbone output "
            f"`{tuple(info['backbone_shape'])}` → head output `{tuple(info['output_shape'])}` (batch of 2). "
            f"Tree depth {info['depth']}, {info['n_terminals']} terminal ops."
        )
        picture = (png_image(draw_architecture(arch, title="data-flow graph", aspect=1.7))
                   if checked["instances"] <= self.limits.max_drawn else None)
        if picture is None:
            summary += f" The graph has {checked['instances']:,} op instances: too many to draw here."
        return summary, table, info["arch_long"], picture

    def use_seed(self, name: str) -> str:
        if name not in list_seeds():
            raise gr.Error(f"Unknown seed architecture {name!r}.")
        return seed_string(name)

    def sample_random(self, shape_text: str, classes: Any, seed: Any) -> tuple[str, int]:
        shape, _ = parse_shape(shape_text, classes, self.limits)
        s = int(seed or 0)
        return to_string(sample(shape, rng=s)), s + 1

    # -- rank -----------------------------------------------------------------------------
    def read_rank_input(self, text: str, upload: Any) -> str:
        if upload:
            path = Path(upload if isinstance(upload, str) else getattr(upload, "name", upload))
            size = path.stat().st_size
            if size > self.limits.max_total_chars:
                raise gr.Error(f"The file has {size:,} bytes; this Space ranks at most {self.limits.max_total_chars:,} characters per request.")
            try:
                return path.read_text(encoding="utf-8")
            except UnicodeDecodeError as err:
                raise gr.Error(f"The file is not UTF-8 text ({err}); upload a text file with one architecture per line.") from None
        return text or ""

    def rank(self, text: str, upload: Any, surrogate_name: str, shape_text: str, classes: Any):
        shape, k = parse_shape(shape_text, classes, self.limits)
        sur = self.surrogate(surrogate_name)
        content = self.read_rank_input(text, upload)
        if len(content) > self.limits.max_total_chars:
            raise gr.Error(f"The input has {len(content):,} characters; this Space ranks at most {self.limits.max_total_chars:,} per request.")
        lines = [(i, line.strip()) for i, line in enumerate(content.splitlines(), 1)]
        lines = [(i, t) for i, t in lines if t and not t.startswith("#")]
        if not lines:
            raise gr.Error("Nothing to rank: give one architecture per line (blank lines and lines starting with # are skipped).")
        max_lines = min(self.limits.max_lines, max(1, int(self.limits.request_seconds / max(sur.seconds_per_arch, 1e-9))))
        if len(lines) > max_lines:
            raise gr.Error(
                f"{len(lines):,} architectures given; this Space ranks at most {max_lines:,} per request with "
                f"{surrogate_name}. Split the file, or install the library and run `surrogate-hub rank FILE`."
            )
        started = time.perf_counter()
        valid, bad = [], []
        for lineno, line in lines:
            if len(line) > self.limits.max_chars:
                bad.append([lineno, f"longer than {self.limits.max_chars:,} characters ({len(line):,})", short(line)])
                continue
            info = check_architecture(line, shape, k, self.limits)
            if info["error"]:
                bad.append([lineno, info["error"], short(line)])
            else:
                valid.append((lineno, line, info))
        malformed = pd.DataFrame(bad, columns=["line", "reason", "text"])
        if not valid:
            raise gr.Error(f"None of the {len(lines)} lines is a valid architecture for this input shape; first problem, line {bad[0][0]}: {bad[0][1]}")
        scores = np.asarray(sur.model.predict([v[2]["arch"] for v in valid], input_shape=shape, num_classes=k, errors="nan"), dtype=float)
        ref = self.reference(surrogate_name, shape, k)
        order = np.lexsort((np.arange(len(scores)), np.where(np.isnan(scores), np.inf, -scores)))
        rows = []
        for position, i in enumerate(order.tolist(), 1):
            lineno, line, info = valid[i]
            rows.append([position, round(float(scores[i]), 4), round(ref.percentile(float(scores[i])), 1),
                         info["n_params"], info["flops"], lineno, line])
        columns = ["rank", "score", "percentile", "params", "flops", "line", "architecture"]
        table = pd.DataFrame(rows, columns=columns)
        csv_path = self._write_csv(table)
        seconds = time.perf_counter() - started
        summary = (
            f"Ranked **{len(valid):,}** architectures with `{surrogate_name}` for "
            f"{'×'.join(map(str, shape))} inputs and {k} classes in {seconds:.2f} s. "
            + (f"**{len(bad)} line(s) could not be ranked**; they are listed below with the reason." if bad else "Every line was valid.")
        )
        shown = table.head(500).assign(architecture=[short(a, 300) for a in table["architecture"].head(500)])
        return summary, shown, csv_path, malformed

    def _write_csv(self, table: pd.DataFrame) -> str:
        """Write the ranking into this app's download folder (files older than an hour are removed)."""
        folder = Path(self._downloads.name)
        now = time.time()
        for old in folder.glob("*/ranking.csv"):
            if now - old.stat().st_mtime > 3600:
                old.unlink(missing_ok=True)
        path = Path(tempfile.mkdtemp(dir=folder)) / "ranking.csv"  # one folder per request: the name stays ranking.csv
        table.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
        return str(path)

    # -- design ---------------------------------------------------------------------------
    def design(self, surrogate_name: str, shape_text: str, classes: Any, steps: Any, population: Any, seed: Any, start: str):
        shape, k = parse_shape(shape_text, classes, self.limits)
        sur = self.surrogate(surrogate_name)
        try:
            steps, population, seed = int(steps), int(population), int(seed or 0)
        except (TypeError, ValueError):
            raise gr.Error("Steps, population and seed must be whole numbers.") from None
        if not 1 <= steps <= self.limits.max_steps:
            raise gr.Error(f"Steps must be between 1 and {self.limits.max_steps:,} in this Space; got {steps:,}.")
        if not 2 <= population <= steps:
            raise gr.Error(f"The population must be between 2 and the number of steps ({steps}); got {population}.")
        initial: list[str] = []
        if start and start != "random samples":
            initial = [seed_string(start)]
            info = describe(initial[0], shape, k)
            if info["error"]:
                raise gr.Error(f"The seed architecture {start} does not fit {'×'.join(map(str, shape))} inputs: {info['error']}")
        result = design(sur.model, shape, k, steps=steps, population=population, tournament=min(10, population),
                        seed=seed, initial=initial, time_budget=self.limits.request_seconds)
        ref = self.reference(surrogate_name, shape, k)
        info = describe(result.best, shape, k)
        note = (f" The {self.limits.request_seconds:.0f} s per-request budget ran out after {result.steps} steps."
                if result.stopped_early else "")
        summary = (
            f"Scored **{result.steps}** architectures in {result.seconds:.1f} s with `{surrogate_name}` "
            f"(regularised evolution, population {population}, tournament {min(10, population)}, seed {seed}; "
            f"no training).{note}\n\n"
            f"**Best score {result.best_score:.4f}** · {ref.describe(result.best_score)} · "
            f"{fmt_int(info['n_params'])} parameters, {fmt_int(info['flops'])} FLOPs.\n\n"
            f"The surrogate is an estimate: as in the paper's surrogate-as-objective protocol, train the "
            f"running-best architectures listed below and keep the one with the best real validation accuracy."
        )
        improvements = pd.DataFrame(
            [[i.step, round(i.score, 4), i.arch] for i in result.improvements], columns=["step", "score", "architecture"]
        )
        instances = check_architecture(result.best, shape, k, replace(self.limits, max_op_instances=10**12))["instances"]
        picture = (png_image(draw_architecture(result.best, title="best architecture", aspect=1.6))
                   if instances <= self.limits.max_drawn else None)
        return summary, png_image(plot_trace(result)), result.best, picture, improvements

    # -- explore --------------------------------------------------------------------------
    def explore_top(self, task: str, k: Any):
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise gr.Error("The number of architectures must be a whole number.") from None
        if not self.corpus.available:
            raise gr.Error(self.corpus.message)
        if task not in self.corpus.tasks:
            raise gr.Error(f"Unknown task {task!r}; the corpus has {', '.join(self.corpus.tasks)}.")
        return self.corpus.top(task, max(1, min(k, 100)))


# ------------------------------------------------------------------------------------ layout
def build_demo(app: SpaceApp | None = None) -> gr.Blocks:
    """The Gradio page (queue enabled). ``?tab=rank`` (or predict, design, explore) opens a tab;
    adding ``&example=1`` also runs that tab's example."""
    app = app or SpaceApp()
    limits = app.limits
    names = list(app.surrogates)
    default_preset = next(iter(app.presets))
    default_shape, default_classes = app.presets[default_preset]
    seeds = list_seeds()
    example_arch = seed_string("resnet18_no_maxpool")

    with gr.Blocks(title="surrogate-hub", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=True):
            preset = gr.Dropdown(list(app.presets) + ["custom"], value=default_preset, label="Task", scale=3)
            shape = gr.Textbox(",".join(map(str, default_shape)), label="Input shape C,H,W", scale=1)
            classes = gr.Number(default_classes, label="Classes", precision=0, scale=1)
        with gr.Tabs() as tabs:
            # ------------------------------------------------------------------ predict
            with gr.Tab("Predict", id="predict"):
                gr.Markdown("Score one architecture with every available surrogate, and see its size, shapes and structure.")
                with gr.Row():
                    with gr.Column(scale=3):
                        arch = gr.Textbox(example_arch, label="Architecture (einspace compact notation)", lines=4,
                                          max_lines=12, max_length=limits.max_chars)
                        with gr.Row():
                            seed_pick = gr.Dropdown(seeds, value="resnet18_no_maxpool", label="Seed architecture",
                                                    info=None, scale=2)
                            use_seed = gr.Button("Use seed architecture", scale=1)
                        with gr.Row():
                            sample_seed = gr.Number(0, label="Random seed", precision=0, scale=1)
                            sample_btn = gr.Button("Sample a random architecture", scale=2)
                        predict_btn = gr.Button("Predict", variant="primary")
                    with gr.Column(scale=2):
                        predict_summary = gr.Markdown()
                picture = gr.Image(label="Structure (data-flow graph: one box per op instance, data flows down "
                                   "each column, columns read left to right)", type="pil", format="png", height=760)
                scores = gr.Dataframe(label="Scores", interactive=False, wrap=True)
                long_form = gr.Textbox(label="Long form (every terminal with its output shape, batch of 2)",
                                       lines=4, max_lines=12)
            # --------------------------------------------------------------------- rank
            with gr.Tab("Rank", id="rank"):
                gr.Markdown(
                    f"Paste or upload architectures, one per line (at most {limits.max_lines:,} lines, "
                    f"{limits.max_total_chars:,} characters); blank lines and `#` comments are skipped. "
                    "Lines that cannot be ranked are listed with the reason. An uploaded file replaces the text box."
                )
                with gr.Row():
                    with gr.Column(scale=3):
                        rank_text = gr.Textbox(label="Architectures, one per line", lines=8, max_lines=16,
                                               max_length=limits.max_total_chars)
                    with gr.Column(scale=1):
                        rank_file = gr.File(label="…or a text file", file_types=[".txt", ".csv", ".tsv"], type="filepath")
                        rank_sur = gr.Dropdown(names, value=names[0], label="Surrogate")
                        rank_example = gr.Button("Load an example (20 random + 1 malformed)")
                        rank_btn = gr.Button("Rank", variant="primary")
                rank_summary = gr.Markdown()
                rank_table = gr.Dataframe(label="Ranking, best first (first 500 rows; the CSV has all)",
                                          interactive=False, wrap=True, max_height=420)
                rank_csv = gr.File(label="Download the ranking (CSV)")
                rank_bad = gr.Dataframe(label="Lines that could not be ranked", interactive=False, wrap=True)
            # ------------------------------------------------------------------- design
            with gr.Tab("Design", id="design"):
                gr.Markdown(
                    "A quick architecture search for the task above with the surrogate as the objective: "
                    "regularised evolution (mutate the winner of a tournament, drop the oldest) scores a few "
                    "hundred architectures in seconds. Nothing is trained."
                )
                with gr.Row():
                    design_sur = gr.Dropdown(names, value=names[0], label="Surrogate")
                    steps = gr.Slider(20, limits.max_steps, value=300, step=10, label="Steps (architectures scored)")
                    population = gr.Slider(5, 100, value=50, step=1, label="Population")
                    design_seed = gr.Number(0, label="Seed", precision=0)
                    start = gr.Dropdown(["random samples", *seeds], value="random samples", label="Start from")
                design_btn = gr.Button("Run search", variant="primary")
                design_summary = gr.Markdown()
                with gr.Row():
                    trace = gr.Image(label="Best-so-far curve", type="pil", format="png")
                    best_picture = gr.Image(label="Best architecture", type="pil", format="png")
                best_arch = gr.Textbox(label="Best architecture (compact notation)", lines=3)
                improvements = gr.Dataframe(label="Running-best architectures (candidates to train)", interactive=False, wrap=True)
            # ------------------------------------------------------------------ explore
            with gr.Tab("Explore", id="explore"):
                corpus = app.corpus
                gr.Markdown(corpus.header())
                if corpus.available:
                    gr.Image(png_image(corpus.accuracy_figure()), label="Validation accuracy per task", type="pil",
                             format="png", height=460)
                    with gr.Row():
                        top_task = gr.Dropdown(corpus.tasks, value=corpus.tasks[0], label="Task")
                        top_k = gr.Number(10, label="How many", precision=0)
                    top_table = gr.Dataframe(corpus.top(corpus.tasks[0], 10), label="Top architectures by validation accuracy",
                                             interactive=False, wrap=True)
                    if corpus.tau is not None:
                        gr.Markdown(corpus.tau_note())
                        gr.Image(png_image(corpus.tau_figure()), label="Cross-task Kendall τ", type="pil", format="png",
                                 height=460)
                gr.Markdown(app.evaluation.note)
                gr.Dataframe(app.evaluation.table, label="Surrogate evaluation", interactive=False, wrap=True)
        status = "Surrogates: " + ", ".join(f"`{n}`" for n in names)
        if app.failed:
            status += " · not available: " + "; ".join(f"`{n}` ({short(e, 200)})" for n, e in app.failed.items())
        gr.Markdown(f"<small>{status} · [library and paper](https://arxiv.org/abs/2504.12971) · "
                    f"limits per request: {limits.max_chars:,} characters and {limits.max_op_instances:,} op "
                    f"instances per architecture, {limits.max_lines:,} lines to rank, {limits.max_steps:,} design "
                    f"steps, {limits.request_seconds:.0f} s of surrogate work</small>")

        # ------------------------------------------------------------------------- events
        def on_preset(choice):
            if choice in app.presets:
                s, k = app.presets[choice]
                return ",".join(map(str, s)), k
            return gr.skip(), gr.skip()

        def to_custom(s, k, choice):  # a hand-edited shape no longer matches the chosen preset
            if choice in app.presets and app.presets[choice] != (tuple(_ints(s)), _int(k)):
                return "custom"
            return gr.skip()

        preset.change(on_preset, preset, [shape, classes], api_name=False, queue=False)
        shape.input(to_custom, [shape, classes, preset], preset, api_name=False, queue=False)
        classes.input(to_custom, [shape, classes, preset], preset, api_name=False, queue=False)
        predict_outputs = [predict_summary, scores, long_form, picture]
        predict_btn.click(app.predict, [arch, shape, classes], predict_outputs, api_name="predict")
        use_seed.click(app.use_seed, seed_pick, arch, api_name="seed_architecture").then(
            app.predict, [arch, shape, classes], predict_outputs, api_name=False)
        sample_btn.click(app.sample_random, [shape, classes, sample_seed], [arch, sample_seed], api_name="sample").then(
            app.predict, [arch, shape, classes], predict_outputs, api_name=False)
        rank_outputs = [rank_summary, rank_table, rank_csv, rank_bad]
        rank_btn.click(app.rank, [rank_text, rank_file, rank_sur, shape, classes], rank_outputs, api_name="rank")
        rank_example.click(_rank_example, [shape, classes], rank_text, api_name=False)
        design_outputs = [design_summary, trace, best_arch, best_picture, improvements]
        design_btn.click(app.design, [design_sur, shape, classes, steps, population, design_seed, start],
                         design_outputs, api_name="design")
        if corpus.available:
            top_task.change(app.explore_top, [top_task, top_k], top_table, api_name=False)
            top_k.submit(app.explore_top, [top_task, top_k], top_table, api_name=False)
        gr.Button("Show top architectures", visible=False).click(
            app.explore_top, [gr.Textbox(visible=False), gr.Number(visible=False)], gr.Dataframe(visible=False),
            api_name="explore_top")

        # Deep links: ?tab=NAME selects a tab; &example=1 runs its example.
        wanted = gr.State("")

        def on_load(request: gr.Request):
            params = dict(request.query_params) if request is not None else {}
            tab = params.get("tab", "predict")
            tab = tab if tab in TAB_IDS else "predict"
            run = params.get("example") == "1"
            rank_input = _rank_example(shape.value, classes.value) if run and tab == "rank" else gr.skip()
            return gr.Tabs(selected=tab), (tab if run else ""), rank_input

        def maybe_predict(want, a, s, k):
            return app.predict(a, s, k) if want in ("", "predict") else (gr.skip(),) * 4

        def maybe_rank(want, *args):
            return app.rank(*args) if want == "rank" else (gr.skip(),) * 4

        def maybe_design(want, *args):
            return app.design(*args) if want == "design" else (gr.skip(),) * 5

        demo.load(on_load, None, [tabs, wanted, rank_text], api_name=False).then(
            maybe_predict, [wanted, arch, shape, classes], predict_outputs, api_name=False).then(
            maybe_rank, [wanted, rank_text, rank_file, rank_sur, shape, classes], rank_outputs, api_name=False).then(
            maybe_design, [wanted, design_sur, shape, classes, steps, population, design_seed, start], design_outputs,
            api_name=False)
    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo


def _ints(text: Any) -> list[int]:
    try:
        return [int(p) for p in str(text).replace("×", ",").replace("x", ",").split(",")]
    except ValueError:
        return []


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rank_example(shape_text: str, classes: Any) -> str:
    """20 random architectures for the current shape and one malformed line."""
    try:
        s = tuple(int(p) for p in str(shape_text).split(","))
        archs = [to_string(sample(s, rng=100 + i)) for i in range(20)]
    except (ValueError, RuntimeError):
        archs = [seed_string(n) for n in list_seeds()]
    return "\n".join(["# 20 random architectures and one malformed line", *archs[:10],
                      "sequential(computation<linear(64)>, computation<relu>", *archs[10:]])


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    app = SpaceApp()
    demo = build_demo(app)
    log.info("ready in %.1f s (surrogates: %s)", time.perf_counter() - started, ", ".join(app.surrogates))
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), ssr_mode=False,
                max_file_size=app.limits.max_total_chars * 4)  # uploads refused at the door; UTF-8 ≤ 4 bytes/char


if __name__ == "__main__":
    main()
