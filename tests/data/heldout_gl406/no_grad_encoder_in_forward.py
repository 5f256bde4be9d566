# expect: GL406 26
# The encoder is "frozen" by a torch.no_grad() around its call; it is a small CNN with
# BatchNorm of this file, and the training loop calls model.train() only.
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x))).mean((2, 3))


class Probe(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.linear = nn.Linear(16, 10)

    def forward(self, x):
        with torch.no_grad():
            feats = self.encoder(x)
        return self.linear(feats)


encoder = Encoder()
encoder.load_state_dict(torch.load("encoder.pt"))
model = Probe(encoder)
optimizer = torch.optim.SGD(model.linear.parameters(), lr=0.1)

for epoch in range(100):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
