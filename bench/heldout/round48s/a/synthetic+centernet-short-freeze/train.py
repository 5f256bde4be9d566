import torch
from torch.utils.data import DataLoader

from losses import centernet_loss
from model import CenterNetR18
from data import CocoCenterDataset

cfg = {
    "epochs": 70,
    "freeze_epochs": 5,
    "lr": 1.25e-4,
    "batch_size": 32,
    "num_classes": 80,
}


def run_epoch(net, loader, optimizer):
    net.train()
    for batch in loader:
        batch = {k: v.cuda() for k, v in batch.items()}
        out = net(batch["image"])
        loss = centernet_loss(out, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


def main():
    net = CenterNetR18(cfg["num_classes"]).cuda()
    net.set_backbone_trainable(False)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    loader = DataLoader(CocoCenterDataset("data/coco", "train2017"),
                        batch_size=cfg["batch_size"], shuffle=True, num_workers=8)
    for epoch in range(cfg["epochs"]):
        if epoch == cfg["freeze_epochs"]:
            net.set_backbone_trainable(True)
        loss = run_epoch(net, loader, optimizer)
        print(f"epoch {epoch} loss {loss:.4f}")
    torch.save(net.state_dict(), "centernet_r18.pth")


if __name__ == "__main__":
    main()
