"""The package reads bottom-up: imports point down (core -> methods -> front ends), never around in a circle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "stylelib"
LAYERS = [  # a module may import from its own layer or any below it
    {"files", "validate", "runtime", "architecture", "images"},
    {"weights", "vgg", "losses", "mrf", "color", "masks", "data", "cin", "parametrize", "mobilenet",
     "transformer_net", "style_transformer", "batchnorm", "guard", "media"},
    {"objective", "evaluate", "options", "models", "fast", "anystyle", "pretrained", "diagnostics", "plots"},
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
