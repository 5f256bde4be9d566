"""Full fine-tuning with a short frozen warm-up of the randomly initialised head."""
import torch
import torch.nn as nn

from backbones import freeze_all_but, load_pretrained

WARMUP_EPOCHS = 3


def finetune(loader, arch="resnet50", ckpt="checkpoints/simclr_r50.pth", epochs=30, device="cuda"):
    model = load_pretrained(arch, ckpt, prefix="backbone.").to(device)
    freeze_all_but(model, ("fc",))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for epoch in range(epochs):
        if epoch == WARMUP_EPOCHS:
            for p in model.parameters():
                p.requires_grad = True
        model.train()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
