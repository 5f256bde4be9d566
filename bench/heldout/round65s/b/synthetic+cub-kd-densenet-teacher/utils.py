import torch


def accuracy(output, target, topk=(1,)):
    maxk = max(topk)
    _, pred = output.topk(maxk, 1, True, True)
    correct = pred.t().eq(target.view(1, -1))
    return [correct[:k].reshape(-1).float().sum().item() * 100.0 / target.size(0) for k in topk]


def evaluate(model, loader, device="cuda"):
    """Top-1 on a loader; restores train mode afterwards so it can be called mid-epoch."""
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            total += accuracy(model(x), y)[0] * y.size(0)
            n += y.size(0)
    model.train()
    return total / max(n, 1)


def freeze_(model):
    for p in model.parameters():
        p.requires_grad_(False)
    return model
