"""Inner micro-batch loop that clears before every micro-batch's backward."""
import torch

for it in range(max_iters):
    for micro_step in range(accum_steps):
        xb, yb = get_batch()
        optimizer.zero_grad(set_to_none=True)  # expect: GL207
        loss = model(xb, yb) / accum_steps
        loss.backward()
    optimizer.step()
