import torch.nn as nn

from models import CONFIG
from data import food_loaders
from loops import get_optimizer, run_epoch
from models import build_mobilenet


def main(cfg=CONFIG):
    train_dl, val_dl = food_loaders(cfg["data_root"], cfg["img_size"], cfg["batch_size"])
    model = build_mobilenet(cfg["num_classes"]).to(cfg["device"])
    optimizer = get_optimizer(model, cfg)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(cfg["epochs"]):
        tr = run_epoch(model, train_dl, criterion, optimizer, cfg["device"], train=True)
        va = run_epoch(model, val_dl, criterion, optimizer, cfg["device"], train=False)
        print(f"{epoch:02d} train loss/acc {tr[0]:.3f}/{tr[1]:.3f}  val {va[0]:.3f}/{va[1]:.3f}")


if __name__ == "__main__":
    main()
