#!/usr/bin/env python
# coding: utf-8
# # EfficientNet-B0 features frozen, BN kept in inference mode

# In[1]:
import torch
import torch.nn as nn
from torchvision import models

from data import fit, get_loaders

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dl, valid_dl, n_classes = get_loaders(bs=64)

# In[2]:
net = models.efficientnet_b0(weights=models.EfficientNet_B0_Weights.IMAGENET1K_V1)
for p in net.features.parameters():
    p.requires_grad = False
net.classifier = nn.Sequential(nn.Dropout(0.3), nn.Linear(1280, n_classes))
net = net.to(device)


def keep_features_frozen(m):
    # called right after model.train() every epoch
    m.features.eval()


# In[3]:
optimizer = torch.optim.Adam(net.classifier.parameters(), lr=1e-3)
fit(net, train_dl, valid_dl, optimizer, epochs=20, device=device, before_epoch=keep_features_frozen)
torch.save(net.state_dict(), "effnet_b0_plant.pth")
