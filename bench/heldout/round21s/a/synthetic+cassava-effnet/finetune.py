# Second run: warm up the head with the encoder frozen for a few epochs, then fine-tune everything.
import torch
import torch.nn as nn

from engine import Trainer
from models.net import CassavaNet
from train import CFG, LeafDataset  # noqa: F401  (re-use dataset / config)
from utils.freeze import freeze, summary, unfreeze

FREEZE_EPOCHS = 3
FT_EPOCHS = 15


def make_loaders():
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from torch.utils.data import DataLoader
    from torchvision import transforms
    df = pd.read_csv(CFG["csv"])
    tr, va = train_test_split(df, test_size=0.15, stratify=df.label, random_state=CFG["seed"])
    tf = transforms.Compose([transforms.Resize((CFG["img_size"], CFG["img_size"])), transforms.ToTensor()])
    return (DataLoader(LeafDataset(tr, CFG["img_dir"], tf), batch_size=CFG["bs"], shuffle=True),
            DataLoader(LeafDataset(va, CFG["img_dir"], tf), batch_size=CFG["bs"]))


if __name__ == "__main__":
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_dl, val_dl = make_loaders()
    model = CassavaNet().to(device)
    crit = nn.CrossEntropyLoss()

    freeze(model.backbone)
    print(summary(model))
    opt = torch.optim.Adam(model.head.parameters(), lr=1e-3)
    Trainer(model, opt, crit, device).fit(train_dl, val_dl, FREEZE_EPOCHS, ckpt="warmup.pt")

    unfreeze(model.backbone)
    print(summary(model))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    Trainer(model, opt, crit, device).fit(train_dl, val_dl, FT_EPOCHS, ckpt="finetuned.pt")
