import os

import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms

FINDINGS = ["Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
            "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia"]


def build_transforms(train):
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    if train:
        return transforms.Compose([transforms.RandomResizedCrop(224, scale=(0.8, 1.0)),
                                   transforms.RandomRotation(7), transforms.ToTensor(), norm])
    return transforms.Compose([transforms.Resize(224), transforms.CenterCrop(224), transforms.ToTensor(), norm])


class ChestXrayDataset(Dataset):
    def __init__(self, root, split, tf):
        self.root = root
        self.df = pd.read_csv(os.path.join(root, f"{split}.csv"))
        self.tf = tf

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        row = self.df.iloc[i]
        img = Image.open(os.path.join(self.root, "images", row["Image Index"])).convert("RGB")
        labels = row["Finding Labels"].split("|")
        y = torch.tensor([float(f in labels) for f in FINDINGS])
        return self.tf(img), y
