"""Same data, full fine-tuning of ResNet-18 (all parameters in the optimizer)."""
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torchvision import models

from utils import get_loaders, train_model

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
dataloaders = get_loaders("chest_xray")

model_ft = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
model_ft.fc = nn.Linear(model_ft.fc.in_features, 2)
model_ft = model_ft.to(device)

criterion = nn.CrossEntropyLoss(weight=torch.tensor([2.9, 1.0], device=device))
optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
model_ft = train_model(model_ft, dataloaders, criterion, optimizer_ft, scheduler, device, num_epochs=15)
torch.save(model_ft.state_dict(), "resnet18_finetuned.pt")
