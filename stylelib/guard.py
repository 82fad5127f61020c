"""A divergence guard for training: step back when the loss jumps (docs/fast_recipe.md).

One run of the bundled recipe went from a loss of about 1 to 44 within a
few dozen steps at step ~2,840 and never recovered: Adam's moment
estimates had taken in a burst of huge gradients. The guard watches each
step's loss before its update is applied:

    spike at step t  ⇔  L_t is not finite, or L_t > factor · median(L_{t-window} … L_{t-1})

A spike's update is skipped: one odd batch (a crop of plain sky, whose
relative content error is large) should not move the weights. After
``PATIENCE`` spikes in a row the weights themselves are the trouble: the
guard puts the weights and the optimiser back to the older of the last two
snapshots (taken at every checkpoint; the newer one may already hold the
damage), with the loss history it had then, and halves the learning rate
from then on; after ``MAX_HALVINGS`` halvings it gives up with an error.
A skipped step's forward pass has still moved batch norm's running
statistics (the paper network), as any forward pass in training mode
does. The loss history travels in checkpoints, so a resumed run judges
like one that never stopped; the snapshots do not (a resumed run's first
snapshot is the checkpoint it resumed from).
"""

from __future__ import annotations

import copy
import math
import statistics

import torch

WARMUP = 20  # losses needed before any judgement: the first steps fall fast from the untrained network's
PATIENCE = 3  # spikes in a row that mean the weights, not the batch, went wrong
MAX_HALVINGS = 6  # a learning rate 64 times lower that still diverges needs a person, not a guard


class Guard:
    """Judges each step's loss against the median of the last ``window`` and keeps two snapshots."""

    def __init__(self, factor: float, window: int = 100, history: list[float] | None = None) -> None:
        self.factor, self.window = factor, window
        self.history = list(history or [])[-window:]
        self.snapshots: list[tuple[int, dict, dict, list]] = []  # (step, weights, optimiser, history), oldest first
        self.in_a_row = 0

    def spiked(self, loss: float) -> bool:
        """Whether ``loss`` is a spike; a healthy loss joins the history."""
        if not math.isfinite(loss) or (len(self.history) >= WARMUP
                                       and loss > self.factor * statistics.median(self.history)):
            self.in_a_row += 1
            return True
        self.in_a_row = 0
        self.history = (self.history + [loss])[-self.window:]
        return False

    def judge(self, loss: float) -> str:
        """"ok" (apply the update), "skip" (an odd batch) or "rollback" (PATIENCE spikes in a row)."""
        if not self.spiked(loss):
            return "ok"
        if self.in_a_row < PATIENCE:
            return "skip"
        self.in_a_row = 0
        return "rollback"

    def snapshot(self, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Keep copies of the weights and the optimiser's state (the last two)."""
        state = (step, copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()), list(self.history))
        self.snapshots = (self.snapshots + [state])[-2:]

    def restore(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> int:
        """Load the older snapshot into ``model`` and ``optimizer``; returns the step it was taken at.

        The loss history goes back too: judged against the later, lower
        losses, the restored weights would look like a spike forever.
        """
        if not self.snapshots:
            raise FloatingPointError("the training loss diverged before the first snapshot; lower --lr")
        step, weights, state, history = self.snapshots[0]
        model.load_state_dict(weights)  # copies
        optimizer.load_state_dict(copy.deepcopy(state))  # Adam would update the snapshot's own tensors in place
        self.history = list(history)
        self.snapshots = self.snapshots[:1]  # the newer one is suspect
        return step
