"""Semi-supervised fine-tuning on 1%/10% labels: only the top of the network is adapted."""
import torch
import torch.nn as nn

from backbones import freeze_all_but, load_pretrained

CONFIG = {
    "arch": "resnet50",
    "pretrained": "checkpoints/moco_v2_800ep.pth.tar",
    "trainable": ("layer4", "fc"),
    "epochs": 60,
    "warmup_frozen_epochs": 5,
    "lr_backbone": 1e-3,
    "lr_head": 1e-1,
}


def run(loader, cfg=CONFIG, device="cuda"):
    model = load_pretrained(cfg["arch"], cfg["pretrained"]).to(device)
    head_params = freeze_all_but(model, ("fc",))
    optimizer = torch.optim.SGD(head_params, lr=cfg["lr_head"], momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(cfg["epochs"]):
        if epoch == cfg["warmup_frozen_epochs"]:
            # head is warm now: open up the last stage as well
            freeze_all_but(model, cfg["trainable"])
            optimizer.add_param_group({"params": model.layer4.parameters(), "lr": cfg["lr_backbone"]})
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
