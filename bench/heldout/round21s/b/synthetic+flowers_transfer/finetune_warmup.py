"""Full fine-tuning with a short head-only warm-up (3 epochs frozen backbone)."""
import torch
import torch.nn as nn
from torchvision import models

from common import accuracy, flowers_loaders

WARMUP_EPOCHS = 3
EPOCHS = 30
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dl, val_dl, test_dl = flowers_loaders(bs=48)

net = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
net.fc = nn.Linear(net.fc.in_features, 102)
net = net.to(device)
backbone_params = [p for n, p in net.named_parameters() if not n.startswith("fc.")]


def set_backbone_trainable(flag):
    for p in backbone_params:
        p.requires_grad = flag


criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.AdamW([
    {"params": backbone_params, "lr": 1e-4},
    {"params": net.fc.parameters(), "lr": 1e-3},
], weight_decay=0.05)

set_backbone_trainable(False)
for epoch in range(EPOCHS):
    if epoch == WARMUP_EPOCHS:
        print("unfreezing backbone")
        set_backbone_trainable(True)
    net.train()
    for x, y in train_dl:
        x, y = x.to(device), y.to(device)
        loss = criterion(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} val acc {accuracy(net, val_dl, device):.4f}")

print("test acc", accuracy(net, test_dl, device))
torch.save(net.state_dict(), "resnet50_flowers_ft.pth")
