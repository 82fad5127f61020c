"""Batch norm over the whole batch when several processes share it (the paper network under torchrun; lesson 09).

Johnson et al.'s network normalises with the statistics of the batch. When
``torchrun`` splits each step's batch between K processes, a plain
``BatchNorm2d`` in each process would see only its own share: K smaller
batches, a different network from the one-process run. PyTorch's
``SyncBatchNorm`` gathers the statistics across processes, but only on
GPUs (on the CPU's gloo backend it raises "expected input tensor to be on
GPU"). :class:`GlobalBatchNorm` does the same on any backend, with
differentiable all-reduces of each channel's sum and sum of squares:

    μ_c = Σ_k S_c^k / Σ_k n^k,   σ_c² = Σ_k Q_c^k / Σ_k n^k − μ_c²

so the forward pass and the gradients equal a single process's on the
whole batch. :func:`synchronise` swaps it in (``SyncBatchNorm`` on CUDA).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


class GlobalBatchNorm(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the batch summed over every process."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        n = torch.tensor([x.shape[0] * x.shape[2] * x.shape[3]], dtype=torch.float32, device=x.device)
        stats = torch.cat([x.float().sum((0, 2, 3)), x.float().pow(2).sum((0, 2, 3)), n])  # (2C + 1,)
        stats = all_reduce(stats)  # differentiable: the gradient flows to every process's share
        c = x.shape[1]
        count = stats[-1]
        mean = stats[:c] / count
        var = (stats[c : 2 * c] / count - mean.pow(2)).clamp_min(0)  # biased, as batch norm normalises
        with torch.no_grad():
            m = self.momentum if self.momentum is not None else 0.1
            self.running_mean.mul_(1 - m).add_(m * mean)
            self.running_var.mul_(1 - m).add_(m * var * count / (count - 1).clamp_min(1))  # unbiased, as torch
            self.num_batches_tracked.add_(1)
        y = (x - mean[None, :, None, None].to(x.dtype)) * torch.rsqrt(var + self.eps)[None, :, None, None].to(x.dtype)
        return y * self.weight[None, :, None, None] + self.bias[None, :, None, None]


def synchronise(net: nn.Module, device: torch.device) -> nn.Module:
    """Every BatchNorm2d of ``net`` made to use the global batch: SyncBatchNorm on CUDA, GlobalBatchNorm elsewhere."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(net)
    for name, child in net.named_children():
        if type(child) is nn.BatchNorm2d:
            swapped = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                      child.track_running_stats).to(child.weight.device)
            swapped.load_state_dict(child.state_dict())
            if child.affine:  # the same Parameter objects, so an optimiser made before the swap still trains them
                swapped.weight, swapped.bias = child.weight, child.bias
            setattr(net, name, swapped)
        else:
            synchronise(child, device)
    return net
