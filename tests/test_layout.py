"""The package reads bottom-up: imports point down (core -> methods -> front ends), never around in a circle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "stylelib"
LAYERS = [  # a module may import from its own layer or any below it
    {"files", "validate", "choices", "runtime", "architecture", "images"},
    {"weights", "winograd", "vgg", "losses", "mrf", "color", "masks", "data", "cin", "parametrize", "mobilenet",
     "anystyle_np", "transformer_net", "style_transformer", "batchnorm", "guard", "media"},
    {"objective", "evaluate", "options", "models", "fast", "anystyle", "pretrained", "photo_coded", "diagnostics", "plots"},
    {"optimize", "cost", "train"},
    {"calibrate", "recipe"},
    {"cli", "__init__", "__main__"},
]
LAYER = {m: i for i, layer in enumerate(LAYERS) for m in layer}


def imports() -> dict[str, set[str]]:
    """Each module's imports from inside the package, top-level or in a function."""
    out = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        out[path.stem] = found - {path.stem, "__version__"}
    return out


def test_every_module_has_a_layer():
    assert set(imports()) == set(LAYER), set(imports()) ^ set(LAYER)


def test_imports_point_down():
    up = [(m, d) for m, deps in imports().items() for d in deps if LAYER[d] > LAYER[m]]
    assert not up, f"imports pointing up a layer: {up}"


def test_no_cycles():
    graph = imports()

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for d in graph[todo.pop()]:
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    assert not [m for m in graph if m in reach(m)]


def test_the_package_and_the_command_line_load_without_torch():
    """``import stylelib`` and the CLI's module leave torch unloaded (stylelib.anystyle_np paints first)."""
    import subprocess
    import sys

    code = "import sys, stylelib, stylelib.cli, stylelib.anystyle_np; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stdout + result.stderr


def test_every_exported_name_and_module_loads_on_first_use():
    import importlib

    import stylelib

    for name, home in stylelib._HOME.items():
        assert getattr(stylelib, name) is getattr(importlib.import_module(f"stylelib.{home}"), name), name
    assert stylelib.losses.gram_matrix is importlib.import_module("stylelib.losses").gram_matrix  # modules too
    assert set(stylelib.__all__) <= set(dir(stylelib))
    try:
        stylelib.no_such_name
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("an unknown name did not raise AttributeError")
