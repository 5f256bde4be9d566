import torch


def fit(model, loaders, criterion, optimizer, epochs, device, scheduler=None):
    best = 0.0
    for epoch in range(epochs):
        model.train()
        for x, y in loaders["train"]:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in loaders["val"]:
                pred = model(x.to(device)).argmax(1).cpu()
                correct += (pred == y).sum().item()
                total += y.numel()
        acc = correct / total
        print(f"epoch {epoch + 1}/{epochs} loss {loss.item():.4f} val_acc {acc:.4f}")
        if acc > best:
            best = acc
            torch.save(model.state_dict(), "plant_mnv2_best.pt")
    return best
