import numpy as np
import torch
from sklearn.metrics import cohen_kappa_score


def train_fn(model, loader, optimizer, scheduler, device):
    model.train()
    losses = []
    for x, y in loader:
        x, y = x.to(device), y.float().to(device)
        pred = model(x).squeeze(1)
        loss = torch.nn.functional.smooth_l1_loss(pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def valid_fn(model, loader, device):
    model.eval()
    preds, ys = [], []
    with torch.no_grad():
        for x, y in loader:
            preds.append(model(x.to(device)).squeeze(1).cpu())
            ys.append(y)
    p = torch.cat(preds).numpy()
    grades = np.digitize(p, [0.5, 1.5, 2.5, 3.5])
    return cohen_kappa_score(torch.cat(ys).numpy(), grades, weights="quadratic")
