"""Compiling architectures to torch (``surrogate_hub.space.compile``)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from surrogate_hub.space import ParseError, ShapeError, n_params, output_shape, parse  # noqa: E402
from surrogate_hub.space.compile import Network, compile_architecture  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: the test machines are shared, and oversubscribed threads crawl."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


def _conv_by_unfold(x, conv: nn.Conv2d, k: int, s: int, p: int):
    """The generic im2col -> linear -> col2im path written out with torch ops and the conv's weights."""
    b, c, h, w = x.shape
    gh, gw = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    tokens = F.unfold(x, k, padding=p, stride=s).transpose(1, 2)  # [B, H'W', C k k], channel-major
    weight = conv.weight.reshape(conv.out_channels, c * k * k)  # Conv2d weights are [D, C, kh, kw]
    out = tokens @ weight.T + conv.bias  # linear(d) on the last axis
    return out.transpose(1, 2).reshape(b, conv.out_channels, gh, gw)  # col2im onto the patch grid


@pytest.mark.parametrize(
    "pre, d, shape",
    [
        ("im2col(3,1,1)", 16, (3, 8, 8)),
        ("im2col(3,2,1)", 32, (3, 9, 7)),
        ("im2col(1,1,0)", 16, (2, 5, 5)),
        ("im2col(1,2,0)", 16, (2, 5, 6)),
        ("im2col(4,4,0)", 64, (1, 8, 8)),
        ("im2col(8,8,0)", 16, (3, 17, 16)),
        ("im2col(16,16,0)", 16, (1, 32, 32)),
        ("im2col(3,1,1)", 16, (3, 2, 2)),  # the loose rule: a 3x3 patch with padding on a 2x2 map
    ],
)
def test_conv_pattern_compiles_to_conv2d_equal_to_the_generic_path(pre, d, shape):
    k, s, p = (int(v) for v in pre[len("im2col("):-1].split(","))
    arch = parse(f"routing[{pre}, computation<linear({d})>, col2im]")
    net = compile_architecture(arch, shape, 10)
    conv = net.backbone
    assert isinstance(conv, nn.Conv2d)
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding) == (
        shape[0], d, (k, k), (s, s), (p, p),
    )
    assert sum(q.numel() for q in net.parameters()) == n_params(arch, shape, 10)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        fast = conv(x)
        generic = _conv_by_unfold(x, conv, k, s, p)
    assert tuple(fast.shape) == (2, *output_shape(arch, shape))
    torch.testing.assert_close(fast, generic, rtol=1e-5, atol=1e-5)


def test_non_conv_routing_uses_unfold_and_fold_and_matches_conv():
    """The same conv written with a relu inside the routing is not the pattern; its im2col/col2im
    path with the conv's weights copied in equals relu(conv(x))."""
    shape = (3, 9, 9)
    conv_net = compile_architecture("routing[im2col(3,2,1), computation<linear(16)>, col2im]", shape, 4)
    generic = compile_architecture(
        "routing[im2col(3,2,1), sequential(computation<linear(16)>, computation<relu>), col2im]", shape, 4
    )
    assert not isinstance(generic.backbone, nn.Conv2d)
    linear = generic.backbone.inner.first
    assert isinstance(linear, nn.Linear) and linear.in_features == 27
    with torch.no_grad():
        linear.weight.copy_(conv_net.backbone.weight.reshape(16, 27))
        linear.bias.copy_(conv_net.backbone.bias)
        x = torch.randn(2, *shape)
        torch.testing.assert_close(generic.backbone(x), torch.relu(conv_net.backbone(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "text, shape, reference",
    [
        ("routing[perm(0,3,1,2), computation<identity>, identity]", (2, 5, 7), lambda x: x.permute(0, 3, 1, 2)),
        ("routing[perm(0,2,3,1), computation<identity>, identity]", (2, 5, 7), lambda x: x.permute(0, 2, 3, 1)),
        # im2col: token t = patch (t // W', t % W'), flattened channel-major (C, kh, kw)
        (
            "routing[im2col(4,4,0), computation<identity>, identity]",
            (2, 8, 12),
            lambda x: torch.stack(
                [x[:, :, 4 * i:4 * i + 4, 4 * j:4 * j + 4].reshape(2, -1) for i in range(2) for j in range(3)], dim=1
            ),
        ),
        # col2im: feature d of token (i, j) lands at [d, i, j]
        (
            "routing[im2col(4,4,0), computation<identity>, col2im]",
            (2, 8, 12),
            lambda x: torch.stack(
                [torch.stack([x[:, :, 4 * i:4 * i + 4, 4 * j:4 * j + 4].reshape(2, -1) for j in range(3)], -1) for i in range(2)], -2
            ),
        ),
        ("computation<softmax>", (2, 3, 4), lambda x: torch.softmax(x, dim=-1)),
        ("computation<relu>", (2, 3, 4), torch.relu),
        (
            "branching(2){group(2,3), computation<identity>, computation<identity>, cat(2,3)}",
            (2, 3, 4),
            lambda x: x,
        ),
        ("branching(4){clone(4), computation<identity>, add(4)}", (2, 3, 4), lambda x: 4 * x),
        ("branching(8){group(8,2), computation<identity>, cat(8,1)}", (1, 8, 3), lambda x: x.reshape(2, 8, 1, 3)),
        (
            "branching(2){clone(2), computation<identity>, routing[perm(0,1,3,2), computation<identity>, identity], dot_product}",
            (2, 3, 3),
            lambda x: x @ x.transpose(-1, -2),
        ),
        (
            "routing[im2col(4,4,0), branching(2){clone(2), computation<identity>, "
            "routing[perm(0,2,1), computation<identity>, identity], dot_product(scaled)}, identity]",
            (1, 8, 8),
            lambda x: (lambda t: t @ t.transpose(1, 2) / math.sqrt(16))(F.unfold(x, 4, stride=4).transpose(1, 2)),
        ),
    ],
)
def test_forward_semantics(text, shape, reference):
    net = compile_architecture(text, shape, 3)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        got = net.backbone(x)
    torch.testing.assert_close(got, reference(x))
    assert tuple(got.shape[1:]) == output_shape(parse(text), shape)


@pytest.mark.parametrize(
    "text, shape, norm_type, features",
    [
        ("computation<norm>", (3, 8, 8), nn.BatchNorm2d, 3),
        ("routing[perm(0,3,1,2), computation<norm>, identity]", (3, 8, 6), nn.BatchNorm2d, 6),
        ("routing[im2col(4,4,0), computation<norm>, identity]", (3, 8, 8), nn.BatchNorm1d, 4),
    ],
)
def test_norm_acts_on_axis_one(text, shape, norm_type, features):
    net = compile_architecture(text, shape, 2)
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert len(norms) == 1 and type(norms[0]) is norm_type and norms[0].num_features == features
    assert norms[0].eps == 1e-5 and norms[0].momentum == 0.1 and norms[0].affine


def test_branching_copies_have_separate_weights():
    net = compile_architecture("branching(4){clone(4), computation<linear(16)>, cat(4,1)}", (3, 8, 8), 2)
    linears = [m for m in net.backbone.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 4
    assert len({id(m.weight) for m in linears}) == 4
    assert not torch.equal(linears[0].weight, linears[1].weight)
    assert sum(p.numel() for p in net.parameters()) == 4 * (8 * 16 + 16) + (12 + 1) * 2


@pytest.mark.parametrize(
    "text, shape, head_in",
    [
        ("computation<linear(16)>", (3, 8, 8), 3),  # rank 4: mean over H, W then axis 1
        ("routing[im2col(4,4,0), computation<linear(32)>, identity]", (3, 8, 8), 4),  # rank 3: per-token mean
        ("routing[perm(0,3,1,2), computation<identity>, identity]", (3, 8, 5), 5),
    ],
)
def test_head(text, shape, head_in):
    net = compile_architecture(text, shape, 7)
    assert isinstance(net, Network)
    assert (net.head.in_features, net.head.out_features) == (head_in, 7)
    assert net.head.bias is not None
    x = torch.randn(2, *shape)
    with torch.no_grad():
        features = net.backbone(x)
        pooled = features.mean(dim=(2, 3)) if features.dim() == 4 else features.mean(dim=-1)
        torch.testing.assert_close(net(x), net.head(pooled))


def test_network_records_its_architecture():
    text = "sequential(computation<norm>,computation<relu>)"
    net = compile_architecture(text, [3, 8, 8], 2)
    assert net.arch == "sequential(computation<norm>, computation<relu>)"
    assert net.input_shape == (3, 8, 8)


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
@pytest.mark.parametrize("dtype", [None, torch.float64])
def test_device_and_dtype(device, dtype):
    net = compile_architecture("routing[im2col(3,1,1), computation<linear(16)>, col2im]", (3, 8, 8), 4, device=device, dtype=dtype)
    params = list(net.parameters())
    assert all(p.device.type == "cpu" for p in params)
    assert all(p.dtype == (dtype or torch.float32) for p in params)
    out = net(torch.randn(2, 3, 8, 8, dtype=dtype or torch.float32))
    assert out.dtype == (dtype or torch.float32)


class _CountParameters:
    """Counts every nn.Parameter registered anywhere while active (a global torch hook, no mocking)."""

    def __enter__(self):
        self.count = 0

        def hook(module, name, param):
            self.count += 1

        self._handle = torch.nn.modules.module.register_module_parameter_registration_hook(hook)
        return self

    def __exit__(self, *exc):
        self._handle.remove()


@pytest.mark.parametrize(
    "text, shape, error",
    [
        # a huge valid prefix followed by an invalid op: nothing may be allocated before the check
        (
            "sequential(branching(8){clone(8), branching(8){clone(8), computation<linear(2048)>, add(8)}, add(8)}, "
            "routing[identity, computation<relu>, col2im])",
            (3, 64, 2048),
            ShapeError,
        ),
        ("routing[im2col(16,16,0), computation<linear(16)>, col2im]", (1, 8, 8), ShapeError),
        ("sequential(computation<linear(2048)>, computation<linear(17)>)", (3, 8, 8), ParseError),
    ],
)
def test_invalid_architectures_fail_before_allocating(text, shape, error):
    with _CountParameters() as counter, pytest.raises(error):
        compile_architecture(text, shape, 10)
    assert counter.count == 0
    with _CountParameters() as counter:  # the counter does see a valid build
        compile_architecture("computation<linear(16)>", (3, 8, 8), 10)
    assert counter.count == 4  # linear weight and bias, head weight and bias


@pytest.mark.parametrize("classes", [0, -1])
def test_bad_num_classes(classes):
    with pytest.raises(ValueError, match="num_classes"):
        compile_architecture("computation<relu>", (3, 8, 8), classes)


def test_bad_input_shape():
    with pytest.raises(ValueError, match="input_shape"):
        compile_architecture("computation<relu>", (3, 8), 2)


def test_trains_one_step():
    """Gradients reach every parameter of a small conv + attention-style network."""
    text = (
        "sequential(routing[im2col(3,1,1), computation<linear(16)>, col2im], "
        "routing[im2col(4,4,0), branching(2){clone(2), computation<linear(32)>, "
        "routing[identity, computation<linear(32)>, perm(0,2,1)], dot_product(scaled)}, identity])"
    )
    net = compile_architecture(text, (1, 8, 8), 3)
    loss = F.cross_entropy(net(torch.randn(4, 1, 8, 8)), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
