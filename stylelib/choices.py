"""The words a user may choose from, in one torch-free place.

Each tuple belongs to the module that acts on it (named beside it), which
imports it from here; :mod:`stylelib.options` reads them all to build the
command line's flags and the app's menus. Keeping them free of torch lets
the command line parse its arguments and paint a first picture
(:mod:`stylelib.anystyle_np`) before torch has loaded.
"""

DEVICES = ("auto", "cpu", "cuda", "mps")  # stylelib.runtime
PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # stylelib.runtime
# bf16 on a CPU with neither is emulated: one VGG-19 evaluation at 256 px took 25 s against 0.69 s in fp32
# on an AMD EPYC with AVX2 only (README, Speed)
PRECISION_HELP = "auto: bf16 where the hardware is fast at it, i.e. AVX-512 bf16, AMX or a recent GPU; else fp32"
WEIGHTS = ("auto", "caffe", "hed", "imagenet", "random")  # stylelib.weights
PRESERVE_COLOR = ("none", "luminance-only", "recombine", "match")  # stylelib.color
NORMALIZE = ("target", "none")  # stylelib.objective
PARAMETRIZATIONS = ("pixels", "pyramid")  # stylelib.parametrize
