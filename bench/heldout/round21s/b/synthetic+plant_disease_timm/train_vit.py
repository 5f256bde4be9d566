#!/usr/bin/env python
# coding: utf-8
# # Same task, frozen ViT-B/16 (LayerNorm only) + linear head

# In[1]:
import torch
import torch.nn as nn
from torchvision.models import ViT_B_16_Weights, vit_b_16

from data import fit, get_loaders

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dl, valid_dl, n_classes = get_loaders(bs=32)

# In[2]:
vit = vit_b_16(weights=ViT_B_16_Weights.IMAGENET1K_V1)
for p in vit.parameters():
    p.requires_grad = False
vit.heads = nn.Linear(vit.hidden_dim, n_classes)
vit = vit.to(device)

# In[3]:
optimizer = torch.optim.AdamW(vit.heads.parameters(), lr=3e-4, weight_decay=0.01)
fit(vit, train_dl, valid_dl, optimizer, epochs=12, device=device)

# In[4]:
torch.save(vit.heads.state_dict(), "vit_head.pth")

# In[5]:
# quick sanity check on one validation batch
vit.eval()
xb, yb = next(iter(valid_dl))
with torch.no_grad():
    pred = vit(xb.to(device)).argmax(1).cpu()
print("batch acc:", (pred == yb).float().mean().item())
