# Head warm-up for 2 epochs, then full fine-tuning (the usual "warm up the new head" trick)
import torch
import torch.nn as nn
from torchvision import models

from data import get_loaders, evaluate

WARMUP_EPOCHS = 2
EPOCHS = 25

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dl, val_dl = get_loaders("data/plant-seedlings", batch_size=48)

model = models.efficientnet_b2(pretrained=True)
model.classifier[1] = nn.Linear(model.classifier[1].in_features, 12)
model.features.requires_grad_(False)
model.to(device)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = torch.optim.AdamW(model.classifier.parameters(), lr=1e-3)

for epoch in range(EPOCHS):
    if epoch == WARMUP_EPOCHS:
        model.features.requires_grad_(True)
        optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4, weight_decay=1e-2)
    model.train()
    for x, y in train_dl:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    print(epoch, evaluate(model, val_dl, device))
