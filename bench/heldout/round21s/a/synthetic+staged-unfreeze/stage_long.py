# Two-stage training for plant seedlings:
#   stage 1: backbone frozen, train only the new classifier for FREEZE_EPOCHS
#   stage 2: unfreeze everything with a small lr
import torch
import torch.nn as nn
from torchvision import models

from data import get_loaders, evaluate

FREEZE_EPOCHS = 20
TOTAL_EPOCHS = 30
NUM_CLASSES = 12

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dl, val_dl = get_loaders("data/plant-seedlings")

model = models.regnet_y_800mf(pretrained=True)
model.fc = nn.Linear(model.fc.in_features, NUM_CLASSES)
for name, param in model.named_parameters():
    if not name.startswith("fc."):
        param.requires_grad = False
model.to(device)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-3)

for epoch in range(TOTAL_EPOCHS):
    if epoch == FREEZE_EPOCHS:
        print("unfreezing backbone")
        for p in model.parameters():
            p.requires_grad = True
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)
    model.train()
    for x, y in train_dl:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch:02d} loss {loss.item():.4f} val acc {evaluate(model, val_dl, device):.4f}")

torch.save(model.state_dict(), "regnet_seedlings.pth")
