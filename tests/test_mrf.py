"""Li & Wand's MRF loss: matching, closed forms, chunking, memory, and the CLI."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from stylelib.mrf import extract_patches, match_patches, mrf_loss, patch_grid


def test_extract_patches_shape_and_content(gen):
    f = torch.randn(2, 4, 6, 7, generator=gen)
    p = extract_patches(f, 3, 1)
    assert p.shape == (2, 4 * 5, 4, 3, 3) and patch_grid(6, 7, 3, 1) == (4, 5)
    assert torch.equal(p[1, 5 + 2], f[1, :, 1:4, 2:5])  # row 1, column 2 of the grid
    assert extract_patches(f, 3, 2).shape[1] == patch_grid(6, 7, 3, 2)[0] * patch_grid(6, 7, 3, 2)[1]


def test_closed_form_single_patch():
    ones = torch.ones(2, 3, 3)
    alternating = torch.tensor([1.0, -1.0]).repeat(9)[:18].reshape(2, 3, 3)
    style = torch.stack([ones, alternating])  # (P=2, C=2, 3, 3)
    generated = (2 * ones)[None]  # (1, 2, 3, 3): one patch, a scaled copy of style patch 0
    idx, score = match_patches(generated, style)
    assert idx.tolist() == [[0]] and score.item() == pytest.approx(1.0)  # NCC ignores the scale
    assert mrf_loss(generated, style).item() == pytest.approx((2 - 1) ** 2 * 18)  # ‖2A − A‖² = 18


def test_finds_the_style_patch_the_result_contains(gen):
    style_features = torch.randn(1, 8, 10, 10, generator=gen)
    style = extract_patches(style_features, 3, 1)[0]  # (64, 8, 3, 3)
    generated = style_features[:, :, 2:7, 3:9]  # a window of the painting's features
    idx, score = match_patches(generated, style)
    rows, cols = patch_grid(5, 6)
    expected = [(2 + r) * 8 + (3 + c) for r in range(rows) for c in range(cols)]
    assert idx[0].tolist() == expected
    torch.testing.assert_close(score, torch.ones_like(score))
    assert mrf_loss(generated, style).item() == pytest.approx(0.0, abs=1e-6)


def test_chunked_and_unchunked_matching_agree(gen):
    style = extract_patches(torch.randn(1, 16, 12, 12, generator=gen), 3, 1)[0]  # 100 patches
    generated = torch.randn(2, 16, 9, 11, generator=gen)
    ref_idx, ref_score = match_patches(generated, style, chunk=10_000)
    for chunk in (1, 7, 64):
        idx, score = match_patches(generated, style, chunk=chunk)
        assert torch.equal(idx, ref_idx)
        torch.testing.assert_close(score, ref_score)
    torch.testing.assert_close(mrf_loss(generated, style, chunk=3), mrf_loss(generated, style))


def test_loss_is_batched_and_differentiable(gen):
    style = extract_patches(torch.randn(1, 4, 8, 8, generator=gen), 3, 2)[0]
    f = torch.randn(3, 4, 7, 7, generator=gen, requires_grad=True)
    loss = mrf_loss(f, style)
    assert loss.shape == (3,)
    singles = torch.cat([mrf_loss(f[i : i + 1], style) for i in range(3)])
    torch.testing.assert_close(loss, singles)
    loss.sum().backward()
    assert f.grad is not None and f.grad.abs().sum() > 0


MEMORY_BOUND_MB = 2500  # stated in the README; one MRF step at 512 px, both default layers


def test_memory_at_512_stays_under_the_bound():
    script = textwrap.dedent("""
        import torch, json
        def peak_kb():  # VmHWM, this process's own: ru_maxrss also counts the pytest process it was spawned from
            return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
        from stylelib.objective import Objective
        from stylelib.vgg import get_extractor
        torch.manual_seed(0)
        content, style = torch.rand(1, 3, 512, 512), torch.rand(1, 3, 512, 512)
        layers = ("relu4_2", "relu3_1", "relu4_1")
        net = get_extractor(layers, "vgg19", "caffe", "max", "cpu", torch.bfloat16)
        before = peak_kb()
        obj = Objective(net, content, [style], content_layers=("relu4_2",), style_layers=(),
                        mrf_layers=("relu3_1", "relu4_1"), mrf_weight=1.0, mrf_style_stride=2)
        x = content.clone().requires_grad_(True)
        loss, terms, raw = obj(x)
        loss.backward()
        after = peak_kb()
        print(json.dumps({"peak_extra_mb": (after - before) / 1024, "finite": bool(torch.isfinite(loss))}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["finite"] and result["peak_extra_mb"] < MEMORY_BOUND_MB, result


def test_cli_with_mrf_writes_png_and_recipe(tmp_path):
    out = tmp_path / "mrf.png"
    result = subprocess.run(
        [sys.executable, "-m", "stylelib", "stylize", "grace-hopper", "great-wave", "-o", str(out),
         "--style-loss", "mrf", "--size", "64", "--steps", "3", "--precision", "fp32"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["options"]["style_loss"] == "mrf"
    assert set(recipe["losses"]["terms"]) == {"content", "tv", "mrf:relu3_1", "mrf:relu4_1"}
    assert out.exists()


def test_li_wand_options_run_through_stylize(pair):
    """Coarse-to-fine, rotated and scaled copies of the painting, and MRF + Gram together."""
    import stylelib

    content, style = pair
    content, style = content.repeat(1, 1, 2, 2), style.repeat(1, 1, 2, 2)  # 64 px
    its = list(stylelib.stylize_iter(content, style, style_loss="both", scales=2, steps=2, size=64,
                                     mrf_rotations=(-15, 0, 15), mrf_scales=(0.9, 1.1), precision="fp32",
                                     preview_every=0))
    assert len(its) == 4 and its[-1].image.shape == (1, 3, 64, 64)
    assert {"mrf:relu3_1", "mrf:relu4_1", "style:relu1_1"} <= set(its[-1].terms)
    assert all(v == v for v in its[-1].terms.values())
