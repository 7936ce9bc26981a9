"""Tests for surrogate_hub.features.proxies on tiny torch networks with known answers."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from surrogate_hub.features.proxies import (  # noqa: E402
    PAPER_PROXIES,
    compute_proxies,
    get_proxy,
    list_proxies,
    proxy,
)

ALL = ["fisher", "flops", "grad_norm", "grasp", "jacob_cov", "nwot", "params", "plain", "snip", "synflow"]
GRADIENT_PROXIES = ["fisher", "grad_norm", "grasp", "jacob_cov", "plain", "snip", "synflow"]
CE = nn.CrossEntropyLoss()


# ----------------------------------------------------------------------------------- fixtures
def _small_cnn(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        nn.Conv2d(4, 6, 3, stride=2, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(6 * 4 * 4, 5),
    )


def _image_batch(n: int = 16, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 8, 8, generator=g), torch.randint(0, 5, (n,), generator=g)


def _vector_batch(n: int = 6, d: int = 4, classes: int = 3, seed: int = 2):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, classes, (n,), generator=g)


def _linear(d_in: int, d_out: int, seed: int = 3, bias: bool = False) -> nn.Linear:
    torch.manual_seed(seed)
    return nn.Linear(d_in, d_out, bias=bias)


def _ce_grad_wrt_logits(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∂ mean-CE / ∂ logits = (softmax − onehot) / N, by hand."""
    return (logits.softmax(-1) - F.one_hot(y, logits.shape[-1]).to(logits.dtype)) / logits.shape[0]


class _Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class _Broken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("invalid network")


# ----------------------------------------------------------------------------------- registry
def test_registry_lists_all_proxies_and_paper_subset():
    assert list_proxies() == ALL
    assert set(PAPER_PROXIES) <= set(list_proxies())
    assert len(PAPER_PROXIES) == 7


def test_unknown_proxy_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown zero-cost proxy 'zen'.*grad_norm.*synflow"):
        get_proxy("zen")
    with pytest.raises(KeyError, match="zen"):
        compute_proxies(_Broken(), _vector_batch(), names=["snip", "zen"])  # validated before running


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        proxy("snip")(lambda model, batch, loss_fn: 0.0)
    assert list_proxies() == ALL


# ----------------------------------------------------------------------------------- params, flops
def test_params_exact_for_mlp():
    mlp = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    batch = (torch.randn(2, 8), torch.tensor([0, 1]))
    assert get_proxy("params")(mlp, batch, CE) == 8 * 16 + 16 + 16 * 4 + 4
    mlp[0].bias.requires_grad_(False)  # frozen parameters are not trainable
    assert get_proxy("params")(mlp, batch, CE) == 8 * 16 + 16 * 4 + 4
    with_bn = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16))  # buffers do not count
    assert get_proxy("params")(with_bn, batch, CE) == 8 * 16 + 16 + 2 * 16


@pytest.mark.parametrize(
    ("model", "example_shape", "macs"),
    [
        (nn.Linear(8, 4), (8,), 8 * 4),
        (nn.Linear(8, 4, bias=False), (8,), 8 * 4),
        # einspace: linear on the last axis of a rank-4 tensor
        (nn.Linear(5, 7), (2, 3, 5), 2 * 3 * 7 * 5),
        (nn.Conv2d(3, 8, 3, padding=1), (3, 10, 10), 8 * 10 * 10 * 3 * 3 * 3),
        (nn.Conv2d(4, 8, 3, groups=2), (4, 6, 6), 8 * 4 * 4 * 2 * 3 * 3),
        (nn.Conv2d(3, 16, 4, stride=4), (3, 28, 28), 16 * 7 * 7 * 3 * 4 * 4),
        # BatchNorm in train mode would refuse a batch of one: flops runs one example in eval mode
        (nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4)), (8,), 8 * 16 + 16 * 4),
    ],
)
def test_flops_counts_macs_of_one_example(model, example_shape, macs):
    batch = (torch.randn(3, *example_shape), torch.zeros(3, dtype=torch.long))
    model.train()
    assert get_proxy("flops")(model, batch, CE) == macs
    assert model.training and all(m.training for m in model.modules())


# ----------------------------------------------------------------------------------- gradient proxies
def test_plain_snip_grad_norm_match_hand_gradient_for_one_linear_layer():
    layer = _linear(4, 3)
    x, y = _vector_batch()
    w = layer.weight.detach()
    grad = _ce_grad_wrt_logits(x @ w.T, y).T @ x  # ∂L/∂W for logits = x Wᵀ
    batch = (x, y)
    assert get_proxy("plain")(layer, batch, CE) == pytest.approx((grad * w).sum().item(), rel=1e-5)
    assert get_proxy("snip")(layer, batch, CE) == pytest.approx((grad * w).abs().sum().item(), rel=1e-5)
    assert get_proxy("grad_norm")(layer, batch, CE) == pytest.approx(grad.norm().item(), rel=1e-5)


def test_grad_norm_sums_per_layer_norms_for_two_layers():
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(4, 5, bias=False), nn.Linear(5, 3, bias=False))
    x, y = _vector_batch()
    w1, w2 = net[0].weight.detach(), net[1].weight.detach()
    hidden = x @ w1.T
    delta = _ce_grad_wrt_logits(hidden @ w2.T, y)  # N × 3
    g2 = delta.T @ hidden
    g1 = (delta @ w2).T @ x
    expected = g1.norm().item() + g2.norm().item()
    assert get_proxy("grad_norm")(net, (x, y), CE) == pytest.approx(expected, rel=1e-5)


def test_snip_bounds_plain_on_a_cnn():
    model, batch = _small_cnn(), _image_batch()
    snip, plain = get_proxy("snip")(model, batch, CE), get_proxy("plain")(model, batch, CE)
    assert snip > 0
    assert snip >= abs(plain)


def test_grasp_matches_hessian_gradient_product():
    layer = _linear(4, 3)
    x, y = _vector_batch()
    w0 = layer.weight.detach().clone()

    def loss_of(flat_w: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(x @ flat_w.view(3, 4).T, y)

    flat = w0.reshape(-1).double()
    x = x.double()
    grad = torch.autograd.functional.jacobian(loss_of, flat)
    hessian = torch.autograd.functional.hessian(loss_of, flat)
    expected = -(flat * (hessian @ grad)).sum().item()
    assert get_proxy("grasp")(layer, (x.float(), y), CE) == pytest.approx(expected, rel=1e-4)


def test_fisher_matches_hand_computation_for_one_linear_layer():
    layer = _linear(4, 3)
    x, y = _vector_batch()
    act = x @ layer.weight.detach().T
    per_channel = 0.5 * (act * _ce_grad_wrt_logits(act, y)).pow(2).mean(0)
    got = get_proxy("fisher")(layer, (x, y), CE)
    assert got == pytest.approx(per_channel.sum().item(), rel=1e-5)


def test_fisher_sums_conv_activations_over_space_per_channel():
    torch.manual_seed(5)
    conv, head = nn.Conv2d(3, 4, 3), nn.Linear(4 * 6 * 6, 5, bias=False)
    net = nn.Sequential(conv, nn.ReLU(inplace=True), nn.Flatten(), head)
    x, y = _image_batch()
    a1 = conv(x)
    a1.retain_grad()
    a2 = head(torch.relu(a1).flatten(1))
    a2.retain_grad()
    F.cross_entropy(a2, y).backward()
    conv_term = 0.5 * (a1 * a1.grad).sum(dim=(2, 3)).pow(2).mean(0).sum()
    head_term = 0.5 * (a2 * a2.grad).pow(2).mean(0).sum()
    net.zero_grad(set_to_none=True)
    got = get_proxy("fisher")(net, (x, y), CE)
    assert got == pytest.approx((conv_term + head_term).item(), rel=1e-4)


def test_jacob_cov_known_value_for_a_linear_model():
    # Σ outputs of a linear map has the same input gradient for every example: the correlation
    # matrix is all ones, eigenvalues N and N−1 zeros.
    layer = _linear(4, 3, bias=True)
    n, eps = 6, 1e-5
    x, y = _vector_batch(n=n)
    expected = -((math.log(n + eps) + 1 / (n + eps)) + (n - 1) * (math.log(eps) + 1 / eps))
    assert get_proxy("jacob_cov")(layer, (x, y), CE) == pytest.approx(expected, rel=1e-6)


def test_jacob_cov_finite_on_small_cnn():
    value = get_proxy("jacob_cov")(_small_cnn(), _image_batch(), CE)
    assert math.isfinite(value)


def test_jacob_cov_nan_for_an_input_independent_network():
    class Const(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(torch.ones_like(x))

    assert math.isnan(get_proxy("jacob_cov")(Const(), _vector_batch(), CE))


# ----------------------------------------------------------------------------------- synflow
def _chain(seed: int, bn: bool, bias: bool = False) -> nn.Sequential:
    torch.manual_seed(seed)
    layers = [nn.Linear(6, 8, bias=bias), nn.ReLU(), nn.Linear(8, 5, bias=bias), nn.ReLU(), nn.Linear(5, 3, bias=bias)]
    if bn:
        layers.insert(1, nn.BatchNorm1d(8))
        layers.insert(4, nn.BatchNorm1d(5))
        layers.append(nn.BatchNorm1d(3))
    return nn.Sequential(*layers)


def test_synflow_known_value_for_bias_free_chain():
    # R = 1ᵀ|W3||W2||W1|1 is linear in each |Wl|, so Σ |Wl| ⊙ ∂R/∂|Wl| = R for each of the 3 layers.
    net = _chain(6, bn=False)
    w1, w2, w3 = (net[i].weight.detach().double().abs() for i in (0, 2, 4))
    r = (w3 @ w2 @ w1 @ torch.ones(6, dtype=torch.float64)).sum().item()
    assert get_proxy("synflow")(net, _vector_batch(d=6), CE) == pytest.approx(3 * r, rel=1e-12)


@pytest.mark.parametrize("alpha", [3.7, 1e-3, -2.0])
def test_synflow_invariant_to_rescaling_adjacent_layers(alpha):
    net = _chain(7, bn=True)
    batch = _vector_batch(d=6)
    before = get_proxy("synflow")(net, batch, CE)
    rescaled = _chain(7, bn=True)
    with torch.no_grad():
        rescaled[0].weight.mul_(alpha)
        rescaled[3].weight.div_(alpha)  # the next Linear, behind BatchNorm and ReLU
    # 1e-6: α·W is rounded to float32 before synflow casts to float64
    assert get_proxy("synflow")(rescaled, batch, CE) == pytest.approx(before, rel=1e-6)


def test_synflow_bypasses_batchnorm_and_leaves_model_unchanged():
    with_bn = _chain(8, bn=True, bias=True)
    without_bn = nn.Sequential(*[m for m in with_bn if not isinstance(m, nn.BatchNorm1d)])
    with torch.no_grad():  # BatchNorm with non-trivial affine parameters and running statistics
        for m in with_bn.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.weight.fill_(5.0)
                m.bias.fill_(-2.0)
                m.running_mean.fill_(3.0)
                m.running_var.fill_(9.0)
    state = {k: v.clone() for k, v in with_bn.state_dict().items()}
    batch = _vector_batch(d=6)
    with_bn.train()
    got = get_proxy("synflow")(with_bn, batch, CE)
    assert got == get_proxy("synflow")(without_bn, batch, CE)
    assert all(torch.equal(v, state[k]) for k, v in with_bn.state_dict().items())
    assert all(m.forward.__func__ is type(m).forward for m in with_bn.modules() if isinstance(m, nn.BatchNorm1d))
    assert with_bn.training


def test_synflow_bypasses_batchnorm2d_in_a_cnn():
    with_bn = _small_cnn(9)
    without_bn = nn.Sequential(*[m for m in with_bn if not isinstance(m, nn.BatchNorm2d)])
    batch = _image_batch()
    assert get_proxy("synflow")(with_bn, batch, CE) == get_proxy("synflow")(without_bn, batch, CE)


# ----------------------------------------------------------------------------------- nwot
_HADAMARD_ROWS = torch.tensor(
    [
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, -1, 1, -1, 1, -1, 1, -1],
        [1, 1, -1, -1, 1, 1, -1, -1],
        [1, -1, -1, 1, 1, -1, -1, 1],
    ],
    dtype=torch.float32,
)


def _relu_probe() -> nn.Module:
    layer = nn.Linear(8, 8, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(8))
    return nn.Sequential(layer, nn.ReLU())


def test_nwot_known_value_and_grows_with_distinct_patterns():
    # Pairwise Hamming distance 4 between the 4 codes: K = 4·I + 4·J, det = 4³·20.
    labels = torch.zeros(4, dtype=torch.long)
    distinct = get_proxy("nwot")(_relu_probe(), (_HADAMARD_ROWS, labels), CE)
    assert distinct == pytest.approx(math.log(1280.0), rel=1e-12)
    close = torch.ones(4, 8)
    close[1, 0] = close[2, 1] = close[3, 2] = -1.0  # codes at Hamming distance 1 or 2
    similar = get_proxy("nwot")(_relu_probe(), (close, labels), CE)
    assert math.isfinite(similar)
    assert similar < distinct


def test_nwot_nan_for_identical_patterns_or_no_relu():
    labels = torch.zeros(4, dtype=torch.long)
    duplicated = _HADAMARD_ROWS.clone()
    duplicated[3] = duplicated[2]  # singular kernel: log det = −inf
    assert math.isnan(get_proxy("nwot")(_relu_probe(), (duplicated, labels), CE))
    assert math.isnan(get_proxy("nwot")(nn.Linear(8, 3), (_HADAMARD_ROWS, labels), CE))


def test_nwot_finite_on_small_cnn():
    assert math.isfinite(get_proxy("nwot")(_small_cnn(), _image_batch(), CE))


# ----------------------------------------------------------------------------------- contract
@pytest.mark.parametrize("name", ALL)
def test_proxy_leaves_parameters_buffers_mode_and_grads_untouched(name):
    model = _small_cnn(10, dropout=0.2).train()
    model[4].eval()  # a per-module mode that must survive
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    value = get_proxy(name)(model, _image_batch(), CE)
    assert isinstance(value, float)
    assert math.isfinite(value)
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())
    assert all(p.grad is None for p in model.parameters())
    assert [m.training for m in model.modules()] == modes


@pytest.mark.parametrize(
    ("factor", "nan_proxies"),
    [
        (math.inf, GRADIENT_PROXIES),
        # float32 overflow; synflow runs in float64, where 1e76 is finite
        (1e38, [name for name in GRADIENT_PROXIES if name != "synflow"]),
    ],
)
def test_nonfinite_output_gives_nan_not_exception_or_sentinel(factor, nan_proxies):
    torch.manual_seed(11)
    model = nn.Sequential(nn.Linear(4, 3), _Scale(factor), _Scale(factor))
    batch = _vector_batch()
    assert torch.isinf(model(batch[0])).any()
    results = compute_proxies(model, batch)
    for name in GRADIENT_PROXIES:
        assert isinstance(results[name], float)
        assert math.isnan(results[name]) == (name in nan_proxies), name
    assert math.isnan(results["nwot"])  # no ReLU
    assert results["params"] == 4 * 3 + 3
    assert results["flops"] == 4 * 3


def test_forward_errors_propagate():
    with pytest.raises(RuntimeError, match="invalid network"):
        compute_proxies(_Broken(), _vector_batch(), names=["snip"])


# ----------------------------------------------------------------------------------- compute_proxies
def test_compute_proxies_all_by_default_and_model_untouched():
    model = _small_cnn(12).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    results = compute_proxies(model, _image_batch())
    assert list(results) == ALL
    assert all(math.isfinite(v) for v in results.values())
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    assert not model.training
    assert compute_proxies(model, _image_batch(), names=["snip", "params"]).keys() == {"snip", "params"}


def test_compute_proxies_uses_train_mode_batch_statistics():
    # In train mode BatchNorm normalises with batch statistics; eval mode would use running ones.
    model = _small_cnn(13).eval()
    batch = _image_batch()
    train_copy = _small_cnn(13).train()
    assert compute_proxies(model, batch, ["grad_norm"]) == {
        "grad_norm": get_proxy("grad_norm")(train_copy, batch, CE)
    }


def test_compute_proxies_deterministic_for_a_seed_and_keeps_global_rng():
    model, batch = _small_cnn(14, dropout=0.5), _image_batch()
    rng = torch.get_rng_state()
    first = compute_proxies(model, batch, seed=3)
    assert torch.equal(torch.get_rng_state(), rng)
    assert compute_proxies(model, batch, seed=3) == first
    other = compute_proxies(model, batch, names=["grad_norm"], seed=4)
    assert other["grad_norm"] != first["grad_norm"]  # dropout masks follow the seed


def test_compute_proxies_under_no_grad_and_custom_loss():
    model, batch = _small_cnn(15), _image_batch()
    expected = compute_proxies(model, batch, names=GRADIENT_PROXIES)
    with torch.no_grad():
        assert compute_proxies(model, batch, names=GRADIENT_PROXIES) == expected
    summed = compute_proxies(model, batch, names=["snip"], loss_fn=nn.CrossEntropyLoss(reduction="sum"))
    assert summed["snip"] == pytest.approx(len(batch[0]) * expected["snip"], rel=1e-4)
