import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms

PATHOLOGIES = ["No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion",
               "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
               "Pleural Other", "Fracture", "Support Devices"]


class CheXpertCSV(Dataset):
    """U-Ones policy: uncertain labels (-1) are mapped to positive."""

    def __init__(self, csv_path, root=".", train=True):
        df = pd.read_csv(csv_path)
        self.paths = df["Path"].tolist()
        labels = df[PATHOLOGIES].fillna(0).replace(-1, 1).values.astype(np.float32)
        self.labels = torch.from_numpy(labels)
        self.root = root
        aug = [transforms.RandomResizedCrop(224, scale=(0.8, 1.0))] if train else [transforms.Resize(256), transforms.CenterCrop(224)]
        self.tf = transforms.Compose(aug + [transforms.Grayscale(3), transforms.ToTensor(),
                                            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = Image.open(f"{self.root}/{self.paths[i]}").convert("RGB")
        return self.tf(img), self.labels[i]
