"""The words a user may choose from, in one torch-free place.

Each tuple belongs to the module that acts on it (named beside it), which
imports it from here; :mod:`stylelib.options` reads them all to build the
command line's flags and the app's menus. Keeping them free of torch lets
the command line parse its arguments and paint a first picture
(:mod:`stylelib.anystyle_np`) before torch has loaded.
"""

DEVICES = ("auto", "cpu", "cuda", "mps")  # stylelib.runtime
PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # stylelib.runtime
WEIGHTS = ("auto", "caffe", "hed", "imagenet", "random")  # stylelib.weights
PRESERVE_COLOR = ("none", "luminance-only", "recombine", "match")  # stylelib.color
NORMALIZE = ("target", "none")  # stylelib.objective
PARAMETRIZATIONS = ("pixels", "pyramid")  # stylelib.parametrize
