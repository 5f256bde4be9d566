import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms


class CheXpertDataset(Dataset):
    """U-Ones policy: uncertain (-1) labels are mapped to positive."""

    def __init__(self, csv_path, labels, train=True, root="."):
        df = pd.read_csv(csv_path)
        self.paths = df["Path"].tolist()
        self.targets = df[labels].fillna(0).replace(-1, 1).values.astype("float32")
        self.root = root
        aug = [transforms.RandomRotation(10)] if train else []
        self.tf = transforms.Compose(aug + [
            transforms.Resize((224, 224)),
            transforms.Grayscale(num_output_channels=3),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ])

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = Image.open(f"{self.root}/{self.paths[i]}").convert("RGB")
        return self.tf(img), torch.from_numpy(self.targets[i])
