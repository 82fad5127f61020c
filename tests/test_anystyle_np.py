"""stylelib.anystyle_np: the any-painting network in NumPy, held to its torch twin, and the CLI's picture before torch."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from stylelib import anystyle_np
from stylelib.anystyle import first_picture, load_network
from stylelib.data import example_path
from stylelib.images import load_image


def test_the_constants_are_their_torch_twins():
    from stylelib import anystyle, cin

    assert (anystyle_np.STYLE_SIZE, anystyle_np.EPS) == (anystyle.STYLE_SIZE, cin.EPS)


def test_the_predictor_matches_its_torch_twin():
    torch.manual_seed(0)
    painting = torch.rand(1, 3, 70, 90)  # odd sizes: SAME padding on both sides of each stride
    with torch.no_grad():
        expected = load_network("arbitrary").predictor(painting)[0]  # (100,)
    torch.testing.assert_close(torch.from_numpy(anystyle_np.style_vector(painting[0].numpy())), expected,
                               atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("size", [(37, 50), (64, 64)])
def test_the_transformer_matches_its_torch_twin(size):
    torch.manual_seed(1)
    photo, code = torch.rand(1, 3, *size), torch.randn(1, 100)  # 37 x 50: padded to a multiple of 4, cropped back
    with torch.no_grad():
        expected = load_network("arbitrary").transformer(photo, code)[0]  # (3, H, W)
    got = anystyle_np.transform(photo[0].numpy(), code[0].numpy())
    assert got.shape == (3, *size)
    torch.testing.assert_close(torch.from_numpy(got), expected, atol=1e-4, rtol=1e-4)


def test_the_first_picture_is_the_one_pass_picture():
    """Below PAINT_SIDE only the painting's resizing differs (PIL here, torch there): a few percent of grey."""
    photo, painting = example_path("grace-hopper"), example_path("great-wave")
    got = torch.from_numpy(anystyle_np.first_picture(photo, [painting], size=96)).permute(2, 0, 1)[None] / 255
    expected = first_picture(str(photo), [str(painting)], size=96)
    assert got.shape == expected.shape
    assert (got - expected).abs().mean() < 0.06
    assert (got - load_image(photo, size=96)).abs().mean() > 0.1  # painted, not the photo


def test_a_blend_of_paintings_blends_their_style_vectors():
    photo, a, b = example_path("grace-hopper"), example_path("great-wave"), example_path("starry-night")
    only_a = anystyle_np.first_picture(photo, [a, b], weights=[1, 0], size=48)
    np.testing.assert_array_equal(only_a, anystyle_np.first_picture(photo, [a], size=48))
    assert np.abs(anystyle_np.first_picture(photo, [a, b], size=48).astype(int) - only_a).mean() > 2
    with pytest.raises(ValueError, match="one blend weight per painting"):
        anystyle_np.first_picture(photo, [a, b], weights=[1], size=48)


def test_stylize_live_writes_a_picture_before_torch_is_imported(tmp_path):
    out = tmp_path / "live.png"
    argv = ["stylize", "grace-hopper", "great-wave", "-o", str(out), "--size", "80", "--live"]
    code = (f"import sys; from stylelib import cli; written = cli.numpy_first_picture({argv!r}); "
            "print(written, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "False"], result.stderr
    expected = anystyle_np.first_picture(example_path("grace-hopper"), [example_path("great-wave")], size=80)
    np.testing.assert_array_equal(np.asarray(load_image(out)[0].permute(1, 2, 0) * 255).round(), expected)


@pytest.mark.parametrize("argv", [
    ["stylize", "grace-hopper", "great-wave"],  # not --live
    ["stylize", "grace-hopper", "great-wave", "--live", "--estimate"],  # writes nothing
    ["stylize", "grace-hopper", "great-wave", "--live", "--steps", "-3"],  # refused by Options
    ["stylize", "grace-hopper", "no-such-painting", "--live"],
    ["stylize", "grace-hopper", "great-wave", "--live", "--no-such-flag"],
    ["stylize", "grace-hopper", "great-wave", "--live", "--help"],
    ["apply", "starry-night", "grace-hopper", "--live"],
])
def test_the_numpy_picture_leaves_other_command_lines_to_the_run(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert numpy_picture(argv) is False
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert capsys.readouterr() == ("", "")  # and nothing said: the run that follows says it


def test_an_unwritable_name_gets_no_numpy_picture(tmp_path):
    argv = ["stylize", "grace-hopper", "great-wave", "-o", str(tmp_path / "x.psd"), "--live", "--size", "32"]
    assert numpy_picture(argv) is False and list(tmp_path.iterdir()) == []
    assert numpy_picture(argv[:4] + [str(tmp_path / "x.png")] + argv[5:]) is True  # the same, writable


def numpy_picture(argv):
    from stylelib import cli

    return cli.numpy_first_picture(argv)
