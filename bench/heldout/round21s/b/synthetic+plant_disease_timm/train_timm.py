#!/usr/bin/env python
# coding: utf-8
# # Plant disease classification -- frozen timm ResNet-34 + new head
# exported from kaggle notebook (version 14)

# In[1]:
import timm
import torch
import torch.nn as nn

from data import fit, get_loaders

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dl, valid_dl, n_classes = get_loaders(bs=64)

# In[2]:
model = timm.create_model("resnet34", pretrained=True, num_classes=0)
for param in model.parameters():
    param.requires_grad = False
print(model.num_features)

# In[3]:
classifier = nn.Sequential(
    model,
    nn.Linear(model.num_features, 256),
    nn.ReLU(),
    nn.Dropout(0.25),
    nn.Linear(256, n_classes),
).to(device)
optimizer = torch.optim.Adam([p for p in classifier.parameters() if p.requires_grad], lr=1e-3)

# In[4]:
fit(classifier, train_dl, valid_dl, optimizer, epochs=15, device=device)

# In[5]:
torch.save(classifier.state_dict(), "plant_resnet34_frozen.pth")
