import json
import os

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms


class CaptionDataset(Dataset):
    """Reads a split file with (image, token ids) pairs prepared offline."""

    def __init__(self, folder, split, max_len=30):
        with open(os.path.join(folder, f"{split}_captions.json")) as f:
            self.items = json.load(f)
        self.folder = folder
        self.max_len = max_len
        self.tf = transforms.Compose([
            transforms.Resize((256, 256)),
            transforms.ToTensor(),
            transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ])

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        item = self.items[i]
        img = Image.open(os.path.join(self.folder, "images", item["file"])).convert("RGB")
        ids = item["ids"][: self.max_len]
        ids = ids + [0] * (self.max_len - len(ids))
        return self.tf(img), torch.tensor(ids)
