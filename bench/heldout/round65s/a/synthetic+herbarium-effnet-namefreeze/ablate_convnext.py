import torch

from data import herbarium_loader
from engine import train
from models.registry import get_model

if __name__ == "__main__":
    loader = herbarium_loader("/kaggle/input/herbarium-2022", batch_size=48, size=288)
    net = get_model("convnext_tiny", 15501)
    net = train(net, loader, epochs=8, lr=2e-4, loss_fn="nll")
    torch.save(net.state_dict(), "convnext_tiny_herbarium.pt")

    # top-1 on the held-out fold, same protocol as train.py
    val_loader = herbarium_loader("/kaggle/input/herbarium-2022", batch_size=96, size=288, split="val")
    net = net.cuda().eval()
    hits = seen = 0
    with torch.no_grad():
        for images, labels in val_loader:
            pred = net(images.cuda()).argmax(1).cpu()
            hits += (pred == labels).sum().item()
            seen += labels.numel()
    print(f"convnext_tiny ablation top-1: {hits / max(seen, 1):.4f}")
