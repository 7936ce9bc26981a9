"""Zero-cost proxies of an einspace architecture on a task: a fresh network, one training batch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["zero_cost"]


def zero_cost(
    arch,
    task,
    batch_size: int = 64,
    device: str = "cpu",
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> dict[str, float]:
    """All (or ``names``) proxies for ``arch`` (string or value) on ``task``.

    The network is compiled under ``torch.manual_seed(seed)``; the batch is ``batch_size`` training
    examples drawn with ``seed``. Values follow the NaN policy of :mod:`.proxies`. Invalid
    architectures raise :class:`~surrogate_hub.space.ArchitectureError`.
    """
    import torch

    from ..space.compile import compile_architecture
    from .proxies import compute_proxies

    data = task.load()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(data.y_train), size=min(batch_size, len(data.y_train)), replace=False)
    x = torch.as_tensor(data.x_train[idx], device=device)
    y = torch.as_tensor(data.y_train[idx], device=device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = compile_architecture(arch, task.input_shape, task.num_classes, device=device)
    return compute_proxies(model, (x, y), names=list(names) if names else None, seed=seed)
