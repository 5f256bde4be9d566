"""Fine-tuning a classifier with accumulation; the clear sits at the top of every micro-batch."""
import torch
from torch import nn

model = nn.Linear(16, 4)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
accum_steps = 4
loader = [(torch.randn(8, 16), torch.randint(0, 4, (8,))) for _ in range(8)]

for epoch in range(2):
    for i, (inputs, labels) in enumerate(loader):
        optimizer.zero_grad()  # expect: GL207
        loss = criterion(model(inputs), labels) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            optimizer.step()
