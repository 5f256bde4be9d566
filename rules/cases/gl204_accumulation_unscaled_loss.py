"""More cases of GL204 (gl204_accumulation_unscaled_loss.py keeps a representative set): run by the tests
with the module's own, see rules/cases/__init__.py."""

from __future__ import annotations

from gradlint.registry import Invalid, Valid

VALID = [
    Valid(  # nanoGPT: micro-batches in an inner loop, the loss divided inside it
        """
while True:
    for micro_step in range(gradient_accumulation_steps):
        logits, loss = model(X, Y)
        loss = loss / gradient_accumulation_steps
        X, Y = get_batch("train")
        scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
"""
    ),
    Valid(  # ignite: typing.cast around the scaled loss; apex's scale_loss names it anew
        """
from typing import cast
for i, (x, y) in enumerate(loader):
    loss = loss_fn(model(x), y) / k
    if scaler:
        cast(torch.Tensor, scaler.scale(loss)).backward()
    else:
        with apex_amp.scale_loss(loss, optimizer) as scaled_loss:
            scaled_loss.backward()
    if (i + 1) % k == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # `continue` before the forward pass subsamples the batches: nothing accumulates
        """
for i, (x, y) in enumerate(loader):
    if i % 2 != 0:
        continue
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
"""
    ),
    Valid(  # prefetch: the loss divided at the body's end (and before the loop) reaches the next backward
        """
loss = criterion(model(x0), y0) / k
for i, (x, y) in enumerate(loader):
    loss.backward()
    if (i + 1) % k == 0:
        optimizer.step()
        optimizer.zero_grad()
    loss = criterion(model(x), y) / k
"""
    ),
    Valid(  # torchtune: the gradients are divided before the step instead of the loss
        """
for idx, batch in enumerate(loader):
    num_tokens += (batch["labels"] != -100).sum()
    loss = loss_fn(model(batch))
    loss.backward()
    if (idx + 1) % accum == 0:
        training.scale_grads(model, 1 / num_tokens)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        num_tokens = 0
"""
    ),
]

INVALID = [
    Invalid(  # the step comes after `continue` skips the other micro-batches
        """
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    loss.backward()
    if (i + 1) % k != 0:
        continue
    optimizer.step()
    optimizer.zero_grad()
""",
        line=4,
    ),
    Invalid(  # none of these divides the gradients between backward() and the step
        """
for i, (x, y) in enumerate(loader):
    normalize_gradients(model)
    criterion(model(x), y).backward()
    log_scale_grad_hist(model)
    if (i + 1) % k == 0:
        grad_norm.div_(k)
        unscale_grads(model)
        optimizer.step()
        optimizer.zero_grad()
""",
        line=4,
    ),
]
