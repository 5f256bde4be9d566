"""Linear probe on Oxford Flowers-102 with a frozen ImageNet ResNet-50."""
import torch
import torch.nn as nn
from torchvision import models

from common import accuracy, flowers_loaders

EPOCHS = 25
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dl, val_dl, _ = flowers_loaders()

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
model.requires_grad_(False)
model.fc = nn.Linear(model.fc.in_features, 102)  # new head, trainable
model = model.to(device)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)

best = 0.0
for epoch in range(EPOCHS):
    model.train()
    running = 0.0
    for x, y in train_dl:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        running += loss.item()
    scheduler.step()
    acc = accuracy(model, val_dl, device)
    print(f"epoch {epoch + 1}/{EPOCHS} loss {running / len(train_dl):.4f} val acc {acc:.4f}")
    if acc > best:
        best = acc
        torch.save(model.fc.state_dict(), "probe_head.pth")
print("best val acc", best)
