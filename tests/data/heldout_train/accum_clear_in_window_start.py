"""Correct: the gradients are cleared at the first micro-batch of each window only."""
import torch
from torch import nn

model = nn.Linear(16, 4)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
accumulate = 2
loader = [(torch.randn(8, 16), torch.randint(0, 4, (8,))) for _ in range(8)]

for step, (x, y) in enumerate(loader):
    if step % accumulate == 0:
        optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y) / accumulate
    loss.backward()
    if (step + 1) % accumulate == 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
