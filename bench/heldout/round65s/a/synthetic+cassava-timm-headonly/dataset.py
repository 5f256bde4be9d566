import cv2
import pandas as pd
import torch
from torch.utils.data import Dataset
import albumentations as A
from albumentations.pytorch import ToTensorV2


def get_transforms(train):
    if train:
        return A.Compose([
            A.RandomResizedCrop(384, 384),
            A.HorizontalFlip(p=0.5),
            A.ShiftScaleRotate(p=0.5),
            A.Normalize(),
            ToTensorV2(),
        ])
    return A.Compose([A.Resize(384, 384), A.Normalize(), ToTensorV2()])


class CassavaDataset(Dataset):
    def __init__(self, csv, img_dir, fold, train, transform=None):
        df = pd.read_csv(csv)
        df = df[df.fold != fold] if train else df[df.fold == fold]
        self.df = df.reset_index(drop=True)
        self.img_dir = img_dir
        self.transform = transform

    def __len__(self):
        return len(self.df)

    def __getitem__(self, idx):
        row = self.df.iloc[idx]
        img = cv2.imread(f"{self.img_dir}/{row.image_id}")
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        if self.transform is not None:
            img = self.transform(image=img)["image"]
        return img, torch.tensor(row.label, dtype=torch.long)
