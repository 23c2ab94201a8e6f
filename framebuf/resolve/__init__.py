"""Sample resolve: renderer samples (sub-pixel positions plus per-buffer values) into pixels.

``Resolver`` applies mental ray's interpolation rules per channel, ``Filter`` is the colour pixel
filter of the ``filter`` option, ``SampleBatch`` carries one batch of samples. See
:mod:`framebuf.resolve.resolver` for the rules and :mod:`framebuf.resolve.filters` for the kernels.
"""

from .filters import DEFAULT_SIZES, Filter, UnknownFilterError
from .resolver import Resolver, SampleBatch

__all__ = ["Resolver", "Filter", "SampleBatch", "UnknownFilterError", "DEFAULT_SIZES"]
