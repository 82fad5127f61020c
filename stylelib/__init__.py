"""stylelib: neural style transfer, one equation at a time.

Gatys et al. (2015) by optimisation (:func:`stylize`), on a VGG feature
extractor with layers named by string (:class:`VGGFeatures`), with the seed's
losses as plain functions (:mod:`stylelib.losses`).
"""

__version__ = "0.1.0"

from .data import list_examples, load_example
from .images import ImageError, load_image, save_image, to_pil, to_tensor
from .losses import content_loss, gram_matrix, guided_style_loss, style_loss, total_loss, tv_loss
from .objective import Objective
from .optimize import Iterate, stylize, stylize_iter
from .options import Options
from .vgg import VGGFeatures, layer_names
from .weights import WeightsError

__all__ = [
    "ImageError", "Iterate", "Objective", "Options", "VGGFeatures", "WeightsError",
    "content_loss", "gram_matrix", "guided_style_loss", "layer_names", "list_examples", "load_example", "load_image",
    "save_image", "style_loss", "stylize", "stylize_iter", "to_pil", "to_tensor", "total_loss", "tv_loss",
]
