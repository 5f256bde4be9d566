import torch
import torch.nn as nn

from models import CONFIG
from data import food_loaders
from loops import get_optimizer, run_epoch
from models import MobileNetFrozenTrunk

if __name__ == "__main__":
    cfg = CONFIG
    train_dl, val_dl = food_loaders(cfg["data_root"], cfg["img_size"], cfg["batch_size"])
    model = MobileNetFrozenTrunk(cfg["num_classes"]).to(cfg["device"])
    optimizer = get_optimizer(model, cfg)
    crit = nn.CrossEntropyLoss()
    for epoch in range(cfg["epochs"]):
        run_epoch(model, train_dl, crit, optimizer, cfg["device"])
        print(epoch, run_epoch(model, val_dl, crit, optimizer, cfg["device"], train=False))
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"trainable parameters: {n_train:,}")
    torch.save(model.classifier.state_dict(), "mobilenet_food_head.pt")
