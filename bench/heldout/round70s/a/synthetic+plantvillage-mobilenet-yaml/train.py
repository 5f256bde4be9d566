import argparse

import torch
import torch.nn as nn
import yaml
from tqdm import tqdm

from src.data import make_loaders
from src.model import build_model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/default.yaml")
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = yaml.safe_load(f)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_dl, val_dl = make_loaders(cfg["data"])
    model = build_model(cfg["model"]).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=cfg["train"]["lr"])
    criterion = nn.CrossEntropyLoss()

    for epoch in range(cfg["train"]["epochs"]):
        model.train()
        bar = tqdm(train_dl, desc=f"epoch {epoch}")
        for x, y in bar:
            x, y = x.to(device), y.to(device)
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in val_dl:
                pred = model(x.to(device)).argmax(1).cpu()
                correct += (pred == y).sum().item()
                total += y.numel()
        print(f"val acc {correct / total:.4f}")
    torch.save(model.state_dict(), f"{cfg['experiment']}.pt")


if __name__ == "__main__":
    main()
