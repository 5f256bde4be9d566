# same as train.py but with ResNeXt-50 and the BN layers kept in inference mode
import torch
import torch.nn as nn
from torchvision import models

from common import accuracy, freeze_bn, freeze_layers, stanford_dogs_loaders

EPOCHS = 30

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_loader, test_loader = stanford_dogs_loaders("data/stanford_dogs", bs=32)

model = models.resnext50_32x4d(pretrained=True)
model.fc = nn.Linear(2048, 120)
freeze_layers(model, ["conv1", "bn1", "layer1", "layer2"])
model = model.to(device)

optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    model.train()
    freeze_bn(model)
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    print(epoch, "acc", accuracy(model, test_loader, device))
