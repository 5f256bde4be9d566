# PTB-XL multi-label training. Data pre-extracted to npy by prepare_ptbxl.py
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader, TensorDataset

from nets import ECGResNet, ECGSENet

ARCH = sys.argv[1] if len(sys.argv) > 1 else "resnet"
EPOCHS = 50
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

X_tr = torch.from_numpy(np.load("ptbxl/X_train.npy")).float().transpose(1, 2)
y_tr = torch.from_numpy(np.load("ptbxl/y_train.npy")).float()
X_va = torch.from_numpy(np.load("ptbxl/X_val.npy")).float().transpose(1, 2)
y_va = np.load("ptbxl/y_val.npy")
train_dl = DataLoader(TensorDataset(X_tr, y_tr), batch_size=128, shuffle=True, drop_last=True)
val_dl = DataLoader(TensorDataset(X_va, torch.from_numpy(y_va)), batch_size=256)


def evaluate(model, to_prob):
    model.eval()
    preds = []
    with torch.no_grad():
        for xb, _ in val_dl:
            preds.append(to_prob(model(xb.to(device))).cpu().numpy())
    return roc_auc_score(y_va, np.concatenate(preds), average="macro")


if ARCH == "resnet":
    model = ECGResNet().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    for epoch in range(EPOCHS):
        model.train()
        for xb, yb in train_dl:
            xb, yb = xb.to(device), yb.to(device)
            pred = model(xb)
            loss = F.binary_cross_entropy_with_logits(pred, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch} macro AUC {evaluate(model, lambda p: p):.4f}")
else:
    model = ECGSENet().to(device)
    bce = nn.BCEWithLogitsLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(EPOCHS):
        model.train()
        for xb, yb in train_dl:
            logits = model(xb.to(device))
            loss = bce(logits, yb.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch} macro AUC {evaluate(model, torch.sigmoid):.4f}")

torch.save(model.state_dict(), f"ecg_{ARCH}.pt")
