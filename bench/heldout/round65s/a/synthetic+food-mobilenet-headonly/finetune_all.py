import torch
import torch.nn as nn

from models import CONFIG
from data import food_loaders
from loops import get_optimizer, run_epoch
from models import build_mobilenet

if __name__ == "__main__":
    cfg = dict(CONFIG, head_only=False, lr=0.002, epochs=15)
    train_dl, _ = food_loaders(cfg["data_root"], cfg["img_size"], cfg["batch_size"])
    model = build_mobilenet(cfg["num_classes"]).to(cfg["device"])
    optimizer = get_optimizer(model, cfg)
    for epoch in range(cfg["epochs"]):
        loss, acc = run_epoch(model, train_dl, nn.CrossEntropyLoss(), optimizer, cfg["device"])
        print(epoch, loss, acc)

    # final validation pass with the fully fine-tuned weights
    _, val_dl = food_loaders(cfg["data_root"], cfg["img_size"], cfg["batch_size"])
    val_loss, val_acc = run_epoch(model, val_dl, nn.CrossEntropyLoss(), optimizer, cfg["device"], train=False)
    print(f"full fine-tune: val loss {val_loss:.3f} acc {val_acc:.3f}")
    torch.save(model.state_dict(), "mobilenet_food_full.pt")
