import pandas as pd
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms


class LandmarkDataset(Dataset):
    def __init__(self, csv_path, size=384):
        self.df = pd.read_csv(csv_path)
        ids = sorted(self.df.landmark_id.unique())
        self.label_map = {v: i for i, v in enumerate(ids)}
        self.num_classes = len(ids)
        self.tf = transforms.Compose([
            transforms.RandomResizedCrop(size, scale=(0.5, 1.0)),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ])

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        r = self.df.iloc[i]
        img = Image.open(f"data/train/{r.id[0]}/{r.id[1]}/{r.id[2]}/{r.id}.jpg").convert("RGB")
        return self.tf(img), self.label_map[r.landmark_id]
