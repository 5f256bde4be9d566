import torch
from sklearn.metrics import roc_auc_score


def train_one_epoch(model, loader, criterion, optimizer, device, log_every=100):
    model.train()
    total = 0.0
    for step, (images, targets) in enumerate(loader):
        images = images.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True).float()
        logits = model(images)
        loss = criterion(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item()
        if step % log_every == 0:
            print(f"  step {step}/{len(loader)} loss {loss.item():.4f}")
    return total / max(1, len(loader))


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    ys, ps = [], []
    for images, targets in loader:
        ps.append(torch.sigmoid(model(images.to(device))).cpu())
        ys.append(targets)
    y = torch.cat(ys).numpy()
    p = torch.cat(ps).numpy()
    aucs = [roc_auc_score(y[:, i], p[:, i]) for i in range(y.shape[1]) if y[:, i].any()]
    return sum(aucs) / len(aucs)
