import argparse

import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from nets import ChurnMLP, WideAndDeep

CAT_COLS = ["gender", "contract", "payment_method", "internet_service"]
NUM_COLS = ["tenure", "monthly_charges", "total_charges"]


def prepare(df):
    cats = torch.tensor(df[CAT_COLS].apply(lambda s: s.astype("category").cat.codes + 1).values, dtype=torch.long)
    nums = torch.tensor(df[NUM_COLS].fillna(0).values, dtype=torch.float32)
    nums = (nums - nums.mean(0)) / (nums.std(0) + 1e-6)
    y = torch.tensor((df["churn"] == "Yes").values, dtype=torch.float32)
    cards = [int(cats[:, i].max()) for i in range(len(CAT_COLS))]
    return cats, nums, y, cards


def fit_mlp(cats, nums, y, cards, epochs):
    model = ChurnMLP(cards, len(NUM_COLS))
    loss_fn = nn.BCELoss()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    loader = DataLoader(TensorDataset(cats, nums, y), batch_size=256, shuffle=True)
    for ep in range(epochs):
        model.train()
        for xc, xn, yb in loader:
            pred = model(xc, xn)
            loss = loss_fn(pred, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"[mlp] epoch {ep} loss {loss.item():.4f}")
    return model


def fit_wide_deep(cats, nums, y, epochs):
    wide_x = nn.functional.one_hot(cats[:, 1], num_classes=int(cats[:, 1].max()) + 1).float()
    model = WideAndDeep(wide_x.shape[1], nums.shape[1])
    bce = nn.BCELoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(wide_x, nums, y), batch_size=256, shuffle=True)
    for ep in range(epochs):
        for xw, xd, yb in loader:
            p = model(xw, xd)
            loss = bce(p, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"[wide&deep] epoch {ep} loss {loss.item():.4f}")
    return model


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="telco_churn.csv")
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    cats, nums, y, cards = prepare(pd.read_csv(args.csv))
    mlp = fit_mlp(cats, nums, y, cards, args.epochs)
    wd = fit_wide_deep(cats, nums, y, args.epochs)
    torch.save({"mlp": mlp.state_dict(), "wide_deep": wd.state_dict()}, "churn_models.pt")
