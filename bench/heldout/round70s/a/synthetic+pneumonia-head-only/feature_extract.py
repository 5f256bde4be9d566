"""Pneumonia vs normal (Kermany chest X-ray). ResNet-18 as a fixed feature extractor:
only the new fc layer is handed to the optimizer."""
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torchvision import models

from utils import get_loaders, train_model

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
dataloaders = get_loaders("chest_xray")

model_conv = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
model_conv.fc = nn.Linear(model_conv.fc.in_features, 2)
model_conv = model_conv.to(device)

criterion = nn.CrossEntropyLoss(weight=torch.tensor([2.9, 1.0], device=device))
optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.001, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)

model_conv = train_model(model_conv, dataloaders, criterion, optimizer_conv, exp_lr_scheduler, device,
                         num_epochs=15)
torch.save(model_conv.state_dict(), "resnet18_fixed_features.pt")
