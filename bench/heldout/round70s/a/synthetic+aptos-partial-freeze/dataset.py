import cv2
import torch
from torch.utils.data import Dataset
import albumentations as A
from albumentations.pytorch import ToTensorV2


def get_transforms(stage, size=512):
    if stage == "train":
        return A.Compose([A.Resize(size, size), A.HorizontalFlip(), A.VerticalFlip(), A.Rotate(180),
                          A.RandomBrightnessContrast(), A.Normalize(), ToTensorV2()])
    return A.Compose([A.Resize(size, size), A.Normalize(), ToTensorV2()])


class RetinaDataset(Dataset):
    def __init__(self, df, tf):
        self.ids = df.id_code.values
        self.y = df.diagnosis.values
        self.tf = tf

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        img = cv2.cvtColor(cv2.imread(f"input/train_images/{self.ids[i]}.png"), cv2.COLOR_BGR2RGB)
        return self.tf(image=img)["image"], torch.tensor(self.y[i])
