# Cassava Leaf Disease Classification - baseline
import pandas as pd
import torch
import torch.nn as nn
from PIL import Image
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from engine import Trainer
from models.net import CassavaNet
from utils.freeze import freeze, summary

CFG = {
    "csv": "../input/cassava-leaf-disease-classification/train.csv",
    "img_dir": "../input/cassava-leaf-disease-classification/train_images",
    "img_size": 256,
    "bs": 32,
    "epochs": 12,
    "lr": 1e-3,
    "seed": 42,
}


class LeafDataset(Dataset):
    def __init__(self, df, img_dir, tf):
        self.df = df.reset_index(drop=True)
        self.img_dir = img_dir
        self.tf = tf

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        row = self.df.iloc[i]
        img = Image.open(f"{self.img_dir}/{row.image_id}").convert("RGB")
        return self.tf(img), int(row.label)


def main():
    torch.manual_seed(CFG["seed"])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    df = pd.read_csv(CFG["csv"])
    tr_df, va_df = train_test_split(df, test_size=0.15, stratify=df.label, random_state=CFG["seed"])
    tf_train = transforms.Compose([
        transforms.RandomResizedCrop(CFG["img_size"]),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.2, 0.2, 0.2),
        transforms.ToTensor(),
    ])
    tf_val = transforms.Compose([transforms.Resize((CFG["img_size"], CFG["img_size"])), transforms.ToTensor()])
    train_dl = DataLoader(LeafDataset(tr_df, CFG["img_dir"], tf_train), batch_size=CFG["bs"], shuffle=True, num_workers=2)
    val_dl = DataLoader(LeafDataset(va_df, CFG["img_dir"], tf_val), batch_size=CFG["bs"], num_workers=2)

    model = CassavaNet(n_classes=5, pretrained=True)
    freeze(model.backbone)
    print(summary(model))
    model = model.to(device)

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=CFG["lr"], weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=CFG["epochs"])
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(label_smoothing=0.1), device, scheduler)
    best = trainer.fit(train_dl, val_dl, CFG["epochs"])
    print("best val acc", best)


if __name__ == "__main__":
    main()
