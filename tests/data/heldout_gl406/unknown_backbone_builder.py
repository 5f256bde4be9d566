# expect: none
# The backbone comes from a builder of another module: whether it has BatchNorm is
# unknown, so nothing is said.
import torch
from mylib.backbones import build_backbone

backbone = build_backbone("custom")
for p in backbone.parameters():
    p.requires_grad = False
classifier = torch.nn.Linear(256, 10)
optimizer = torch.optim.Adam(classifier.parameters())

for epoch in range(10):
    backbone.train()
    classifier.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(classifier(backbone(x)), y).backward()
        optimizer.step()
