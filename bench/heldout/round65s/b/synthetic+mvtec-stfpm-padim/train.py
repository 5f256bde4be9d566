import argparse

import torch

from models.padim import PaDiM
from models.stfpm import STFPM


def train_stfpm(loader, epochs=100, device="cuda"):
    model = STFPM("resnet18").to(device)
    optimizer = torch.optim.SGD(model.student.parameters(), lr=0.4, momentum=0.9, weight_decay=1e-4)
    for epoch in range(epochs):
        model.train()
        for images, *_ in loader:
            t_feats, s_feats = model(images.to(device))
            loss = STFPM.loss(t_feats, s_feats)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"[stfpm] epoch {epoch} loss {loss.item():.4f}")
    return model


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["stfpm", "padim"], default="stfpm")
    ap.add_argument("--category", default="bottle")
    args = ap.parse_args()
    from datasets import mvtec_loader
    loader = mvtec_loader(args.category, split="train")
    if args.method == "stfpm":
        train_stfpm(loader)
    else:
        PaDiM().fit(loader)
