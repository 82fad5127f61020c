"""stylelib: neural style transfer, one equation at a time.

Gatys et al. (2015) by optimisation (:func:`stylize`), on a VGG feature
extractor with layers named by string (:class:`VGGFeatures`), with the seed's
losses as plain functions (:mod:`stylelib.losses`).

The names below load on first use (Python's module ``__getattr__``, PEP 562):
``import stylelib`` does not import torch, which takes 1.5 s or more, so the
command line can show a first picture before it has (:mod:`stylelib.anystyle_np`).
"""

import importlib
import importlib.util

__version__ = "0.1.0"

_HOME = {  # name -> the module that defines it
    "list_examples": "data", "load_example": "data",
    "ImageError": "images", "load_image": "images", "save_image": "images", "to_pil": "images", "to_tensor": "images",
    "content_loss": "losses", "gram_matrix": "losses", "guided_style_loss": "losses", "style_loss": "losses",
    "total_loss": "losses", "tv_loss": "losses",
    "Objective": "objective", "Iterate": "optimize", "stylize": "optimize", "stylize_iter": "optimize",
    "Options": "options", "VGGFeatures": "vgg", "layer_names": "vgg", "WeightsError": "weights",
}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:  # a module: stylelib.losses.gram_matrix
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'stylelib' has no attribute {name!r}")
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
