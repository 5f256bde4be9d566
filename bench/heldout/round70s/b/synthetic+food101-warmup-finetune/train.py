import torch
import torchvision.transforms as T
from torchvision.datasets import Food101

from config import CFG, LOSSES
from heads import build_loss, build_model
from utils import AverageMeter, seed_everything, set_backbone_trainable


def make_loaders(cfg):
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_tf = T.Compose([T.RandomResizedCrop(cfg["image_size"]), T.RandomHorizontalFlip(),
                          T.TrivialAugmentWide(), T.ToTensor(), norm])
    val_tf = T.Compose([T.Resize(cfg["image_size"] + 16), T.CenterCrop(cfg["image_size"]), T.ToTensor(), norm])
    tr = Food101(cfg["data_root"], split="train", transform=train_tf, download=True)
    va = Food101(cfg["data_root"], split="test", transform=val_tf, download=True)
    kw = dict(batch_size=cfg["batch_size"], num_workers=cfg["num_workers"], pin_memory=True)
    return torch.utils.data.DataLoader(tr, shuffle=True, **kw), torch.utils.data.DataLoader(va, **kw)


def main(cfg):
    seed_everything(cfg["seed"])
    device = "cuda"
    train_dl, val_dl = make_loaders(cfg)
    model = build_model(cfg).to(device)
    criterion = build_loss({**cfg, "LOSSES": LOSSES})
    optimizer = torch.optim.AdamW([
        {"params": model.features.parameters(), "lr": cfg["lr_backbone"]},
        {"params": model.classifier.parameters(), "lr": cfg["lr_head"]},
    ], weight_decay=0.05)
    scaler = torch.cuda.amp.GradScaler(enabled=cfg["amp"])

    set_backbone_trainable(model, False)
    for epoch in range(cfg["epochs"]):
        if epoch == cfg["freeze_epochs"]:
            print("unfreezing backbone")
            set_backbone_trainable(model, True)
        model.train()
        meter = AverageMeter()
        for images, labels in train_dl:
            images, labels = images.to(device), labels.to(device)
            with torch.autocast("cuda", enabled=cfg["amp"]):
                probs = model(images)
                loss = criterion(probs, labels)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            meter.update(loss.item(), images.size(0))

        model.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in val_dl:
                pred = model(images.to(device)).argmax(1).cpu()
                correct += (pred == labels).sum().item()
                total += labels.numel()
        print(f"epoch {epoch:02d} loss {meter.avg:.4f} top1 {correct / total:.4f}")


if __name__ == "__main__":
    main(CFG)
