import os

import numpy as np
import pandas as pd
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.data import Dataset


class WheatDataset(Dataset):
    def __init__(self, root, train=True):
        self.root = root
        df = pd.read_csv(os.path.join(root, "train.csv"))
        df[["x", "y", "w", "h"]] = np.stack(df.bbox.apply(lambda s: np.array(eval(s))))
        self.groups = list(df.groupby("image_id"))
        self.train = train

    def __len__(self):
        return len(self.groups)

    def __getitem__(self, i):
        image_id, rows = self.groups[i]
        img = TF.to_tensor(Image.open(os.path.join(self.root, "train", image_id + ".jpg")).convert("RGB"))
        boxes = torch.tensor(rows[["x", "y", "w", "h"]].values, dtype=torch.float32)
        boxes[:, 2:] += boxes[:, :2]
        target = {"boxes": boxes, "labels": torch.ones(len(boxes), dtype=torch.int64)}
        return img, target


class WheatCropDataset(Dataset):
    """Folder of 96x96 crops named <id>_<0|1>.png (1 = ripe)."""

    def __init__(self, folder):
        self.files = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
        self.folder = folder

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        name = self.files[i]
        img = TF.to_tensor(Image.open(os.path.join(self.folder, name)).convert("RGB").resize((96, 96)))
        return TF.normalize(img, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), int(name[-5])
