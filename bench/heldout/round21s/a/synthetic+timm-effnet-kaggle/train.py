# APTOS / generic kaggle image classification starter with timm
import os
import random

import numpy as np
import pandas as pd
import timm
import torch
import torch.nn as nn
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T


class CFG:
    model_name = "tf_efficientnet_b3_ns"
    img_size = 300
    epochs = 10
    lr = 2e-3
    batch_size = 24
    n_classes = 5
    seed = 2021
    train_csv = "../input/train.csv"
    img_dir = "../input/train_images"


def seed_everything(seed):
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed(seed)


class ImgDS(Dataset):
    def __init__(self, df, tf):
        self.df, self.tf = df.reset_index(drop=True), tf

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        r = self.df.iloc[i]
        img = Image.open(os.path.join(CFG.img_dir, r.id_code + ".png")).convert("RGB")
        return self.tf(img), r.diagnosis


def build_model():
    model = timm.create_model(CFG.model_name, pretrained=True, num_classes=CFG.n_classes)
    for p in model.parameters():
        p.requires_grad = False
    for p in model.get_classifier().parameters():
        p.requires_grad = True
    return model


def main():
    seed_everything(CFG.seed)
    device = torch.device("cuda")
    df = pd.read_csv(CFG.train_csv)
    tf = T.Compose([T.Resize((CFG.img_size, CFG.img_size)), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    dl = DataLoader(ImgDS(df, tf), batch_size=CFG.batch_size, shuffle=True, num_workers=4)
    model = build_model().to(device)
    optimizer = torch.optim.Adam(model.get_classifier().parameters(), lr=CFG.lr)
    criterion = nn.CrossEntropyLoss()
    scaler = torch.cuda.amp.GradScaler()
    for epoch in range(CFG.epochs):
        model.train()
        losses = []
        for x, y in dl:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            with torch.cuda.amp.autocast():
                loss = criterion(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
        print(f"Epoch {epoch}: {np.mean(losses):.4f}")
        torch.save(model.state_dict(), f"{CFG.model_name}_ep{epoch}.pth")


if __name__ == "__main__":
    main()
