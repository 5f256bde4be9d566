"""``GradlintCallback`` for Lightning: runs ``gradlint.preflight`` once, on the first
training batch before the first optimiser step, with the LightningModule, that batch
(already on the device), ``training_step`` as the forward and loss, and the first
optimiser. Logs the findings on rank 0; ``raise_on`` raises :class:`PreflightError`,
``stop_on`` asks the trainer to stop. Models with manual optimisation (their
``training_step`` steps the optimiser itself) are skipped with a notice."""

from __future__ import annotations

from typing import Any, Optional

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the older package name
    from pytorch_lightning.callbacks import Callback  # type: ignore[no-redef,assignment]

from gradlint.integrations import LOG, publish


class GradlintCallback(Callback):
    def __init__(self, steps: int = 1, raise_on: Optional[str] = None, stop_on: Optional[str] = None) -> None:
        super().__init__()
        self.steps, self.raise_on, self.stop_on = steps, raise_on, stop_on
        self.report: Any = None
        self._done = False

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if self._done:
            return
        self._done = True
        if not getattr(pl_module, "automatic_optimization", True):
            LOG.warning("gradlint preflight: skipped, %s uses manual optimisation (training_step steps the "
                        "optimiser itself)", type(pl_module).__name__)
            return
        from gradlint.inprocess.run import run_preflight

        optimizers = list(getattr(trainer, "optimizers", None) or [])
        had_forward = "forward" in pl_module.__dict__
        own_forward = pl_module.__dict__.get("forward")
        # the measured forward is training_step on this batch; its result is the loss
        pl_module.__dict__["forward"] = lambda step_batch: pl_module.training_step(step_batch, batch_idx)
        try:
            self.report = run_preflight(pl_module, {"step_batch": batch}, loss_fn=_step_loss,
                                        optimizer=optimizers[0] if optimizers else None, steps=self.steps)
        finally:
            if had_forward:
                pl_module.__dict__["forward"] = own_forward
            else:
                del pl_module.__dict__["forward"]
        # the trace note is about training_step, which is no forward of the model
        self.report.notices = [n for n in self.report.notices if not n.endswith("(GL003)")]
        if publish(self.report, self.raise_on, self.stop_on):
            trainer.should_stop = True


def _step_loss(output: Any, batch: Any) -> Any:
    """``training_step`` returns the loss, or a dict holding it under ``"loss"``."""
    return output["loss"] if isinstance(output, dict) else output
