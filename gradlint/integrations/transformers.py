"""``GradlintCallback`` for the transformers ``Trainer``: runs ``gradlint.preflight``
once, at the start of training, with the Trainer's model, optimiser and the first batch
of its training dataloader (moved to the model's device; the model's own ``loss``, from
the batch's labels). The dataloader's iterator is drawn with the RNG states saved and
put back, so the run's shuffling is unchanged. Logs the findings on rank 0;
``raise_on`` raises :class:`PreflightError`, ``stop_on`` sets
``control.should_training_stop``. The Trainer puts the model in train mode itself, so
eval mode is not reported here."""

from __future__ import annotations

import random
from typing import Any, Optional

from transformers import TrainerCallback

from gradlint.integrations import publish


class GradlintCallback(TrainerCallback):  # type: ignore[misc]
    def __init__(self, steps: int = 1, raise_on: Optional[str] = None, stop_on: Optional[str] = None) -> None:
        self.steps, self.raise_on, self.stop_on = steps, raise_on, stop_on
        self.report: Any = None
        self._done = False

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, optimizer: Any = None,
                       train_dataloader: Any = None, **kwargs: Any) -> Any:
        if self._done or model is None or train_dataloader is None:
            return control
        self._done = True
        import torch

        from gradlint.inprocess.run import run_preflight

        python_rng, cpu_rng = random.getstate(), torch.get_rng_state()
        try:
            batch = next(iter(train_dataloader))
        finally:
            random.setstate(python_rng)
            torch.set_rng_state(cpu_rng)
        device = next(model.parameters()).device
        self.report = run_preflight(model, batch, optimizer=optimizer, steps=self.steps, device=device,
                                    check_eval_mode=False)
        if publish(self.report, self.raise_on, self.stop_on):
            control.should_training_stop = True
        return control
