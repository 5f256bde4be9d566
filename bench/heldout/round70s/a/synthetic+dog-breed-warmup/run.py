import random

import numpy as np
import pandas as pd
import torch
from PIL import Image
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from config import CONFIG
from trainer import Trainer


class DogDataset(Dataset):
    def __init__(self, df, root, breeds, tf):
        self.df, self.root, self.tf = df.reset_index(drop=True), root, tf
        self.idx = {b: i for i, b in enumerate(breeds)}

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        r = self.df.iloc[i]
        img = Image.open(f"{self.root}/train/{r.id}.jpg").convert("RGB")
        return self.tf(img), self.idx[r.breed]


def seed_all(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)


if __name__ == "__main__":
    seed_all(CONFIG["seed"])
    labels = pd.read_csv(f"{CONFIG['data_dir']}/labels.csv")
    breeds = sorted(labels.breed.unique())
    tr, va = train_test_split(labels, test_size=0.1, stratify=labels.breed, random_state=CONFIG["seed"])
    s = CONFIG["img_size"]
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_tf = transforms.Compose([transforms.RandomResizedCrop(s), transforms.RandomHorizontalFlip(),
                                   transforms.ColorJitter(0.2, 0.2, 0.2), transforms.ToTensor(), norm])
    valid_tf = transforms.Compose([transforms.Resize(int(s * 1.14)), transforms.CenterCrop(s),
                                   transforms.ToTensor(), norm])
    train_loader = DataLoader(DogDataset(tr, CONFIG["data_dir"], breeds, train_tf),
                              batch_size=CONFIG["batch_size"], shuffle=True, num_workers=4)
    valid_loader = DataLoader(DogDataset(va, CONFIG["data_dir"], breeds, valid_tf),
                              batch_size=CONFIG["batch_size"], num_workers=4)
    trainer = Trainer(CONFIG, train_loader, valid_loader)
    print("best val acc", trainer.fit())
