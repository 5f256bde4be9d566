from dataclasses import dataclass

import torch
import torch.nn as nn

from dataset import make_loaders
from utils import LeafNet, fit_one_epoch, seed_everything, set_backbone_trainable


@dataclass
class CFG:
    data_dir: str = "../input/plant-pathology-2020-fgvc7"
    img_size: int = 512
    batch_size: int = 16
    epochs: int = 20
    freeze_epochs: int = 2
    lr: float = 3e-4
    seed: int = 42
    device: str = "cuda"


def run(cfg: CFG):
    seed_everything(cfg.seed)
    train_loader, valid_loader = make_loaders(cfg.data_dir, cfg.img_size, cfg.batch_size)
    model = LeafNet().to(cfg.device)
    set_backbone_trainable(model, False)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(cfg.epochs):
        if epoch == cfg.freeze_epochs:
            set_backbone_trainable(model, True)
            print("backbone unfrozen")
        loss = fit_one_epoch(model, train_loader, optimizer, criterion, cfg.device)
        print(f"epoch {epoch} loss {loss:.4f}")
    torch.save(model.state_dict(), "leafnet.pt")


if __name__ == "__main__":
    run(CFG())
