"""The networks of the three setups: shapes at every crop size, the original's layer sizes, eval-safety."""

from __future__ import annotations

import pytest
import torch

from keepsmiling_core.models.registry import PRESETS, architecture, build_setup
from keepsmiling_core.setups import BUILTIN as SETUPS


def _count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(
    ("setup", "size"), [(s, 32) for s in SETUPS] + [(s, 64) for s in SETUPS] + [("splitgan", 128)]
)
def test_default_networks_follow_the_crop_size(setup: str, size: int) -> None:
    torch.manual_seed(0)
    nets = build_setup(setup, "default", size)
    x = torch.rand(2, 3, size, size) * 2 - 1
    smiling = torch.tensor([1.0, 0.0])
    if setup == "simplegan":
        out = nets["generator"](torch.randn(2, nets["generator"].nz))
    elif setup == "complexgan":
        out = nets["generator"](x, smiling)
        src, cls = nets["discriminator"](out)
        assert src.shape == cls.shape == (2,)
    else:
        z = nets["encoder"](x)
        assert z.shape == (2, *nets["encoder"].latent_shape)
        assert z.shape[-1] == size // 4, "the SplitGAN latent is spatial (size/4) so it can reconstruct detail"
        out = nets["decoder"](z)
    assert out.shape == (2, 3, size, size)
    assert out.min() >= -1 and out.max() <= 1
    logits = nets["discriminator"](out)
    logits = logits[0] if isinstance(logits, tuple) else logits
    assert logits.shape == (2,) and torch.isfinite(logits).all()


def test_original_presets_have_the_original_layer_sizes() -> None:
    """Parameter counts from docs/original-setups.md (SimpleGAN, ComplexGAN, SplitGAN); the heads return
    logits now, which adds no weights."""
    simple = build_setup("simplegan", "original", 64)
    assert _count(simple["generator"]) == 3_576_704
    assert _count(simple["discriminator"]) == 2_765_568
    complex_ = build_setup("complexgan", "original", 64)
    assert _count(complex_["generator"]) == 4_439_360
    assert _count(complex_["discriminator"]) == 2_773_760
    split = build_setup("splitgan", "original", 64)
    assert _count(split["encoder"]) == 759_840
    assert _count(split["decoder"]) == 3_677_952
    z = split["encoder"](torch.zeros(1, 3, 64, 64))
    assert z.shape == (1, 128, 5, 5)  # the original's 3,200-value latent


def test_original_presets_refuse_other_sizes_with_a_reason() -> None:
    with pytest.raises(ValueError, match="64x64"):
        build_setup("splitgan", "original", 32)
    with pytest.raises(ValueError, match="64x64"):
        build_setup("complexgan", "original", 128)


@pytest.mark.parametrize("setup", ["splitgan", "complexgan"])
def test_eval_and_train_mode_give_the_same_translation(setup: str) -> None:
    """No running statistics anywhere in the default generators, so eval() changes nothing
    (docs/original-setups.md#w4)."""
    torch.manual_seed(1)
    nets = build_setup(setup, "default", 32)
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    c = torch.tensor([1.0, 0.0, 1.0])

    def forward() -> torch.Tensor:
        with torch.no_grad():
            if setup == "splitgan":
                return nets["decoder"](nets["encoder"](x))
            return nets["generator"](x, c)

    train_out = forward()
    for net in nets.values():
        net.eval()
    assert torch.equal(train_out, forward())


def test_complexgan_alpha_scales_the_change() -> None:
    torch.manual_seed(2)
    G = build_setup("complexgan", "default", 32)["generator"].eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    c = torch.tensor([1.0, 0.0])
    with torch.no_grad():
        full = G(x, c)
        assert torch.allclose(G.translate(x, c, 0.0), x)
        assert torch.allclose(G.translate(x, c, 1.0), full.clamp(-1, 1), atol=1e-6)
        half = G.translate(x, c, 0.5)
    assert torch.allclose(half, x + 0.5 * (full - x), atol=1e-6)


def test_complexgan_label_changes_the_output() -> None:
    torch.manual_seed(3)
    G = build_setup("complexgan", "default", 32)["generator"]
    for p in G.parameters():  # the label paths start at zero; give them weight as training would
        torch.nn.init.normal_(p, 0, 0.1) if p.dim() > 1 else None
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert not torch.allclose(G(x, torch.ones(1)), G(x, torch.zeros(1)))


def test_registry_builds_the_classifier_and_rejects_unknown_names() -> None:
    nets = build_setup("classifier", size=32)
    assert list(nets) == ["classifier"]
    assert nets["classifier"](torch.zeros(2, 3, 32, 32)).shape == (2,)
    with pytest.raises(ValueError, match="unknown setup"):
        build_setup("stylegan")
    with pytest.raises(ValueError, match="unknown preset"):
        build_setup("splitgan", "fancy")
    with pytest.raises(ValueError, match="unknown architecture"):
        architecture("splitgan", "default", depth=3)
    assert set(PRESETS) == {"default", "original"}
