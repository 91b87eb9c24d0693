import os

import torch

# Without a GPU the Triton kernels run in Triton's interpreter; it must be chosen before
# the kernels are first compiled (their module is imported on first use).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
