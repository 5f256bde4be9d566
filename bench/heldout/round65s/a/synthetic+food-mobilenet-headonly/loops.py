import torch


def get_optimizer(model, cfg):
    if cfg["head_only"]:
        params = model.classifier.parameters()
    else:
        params = model.parameters()
    return torch.optim.SGD(params, lr=cfg["lr"], momentum=cfg["momentum"], nesterov=True)


def run_epoch(model, loader, criterion, optimizer, device, train=True):
    model.train(train)
    total_loss, total_correct, n = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        with torch.set_grad_enabled(train):
            out = model(x)
            loss = criterion(out, y)
        if train:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        total_loss += loss.item() * x.size(0)
        total_correct += (out.argmax(1) == y).sum().item()
        n += x.size(0)
    return total_loss / n, total_correct / n
