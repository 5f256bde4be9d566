import os

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset


class RoofDataset(Dataset):
    def __init__(self, root, split="train", size=512):
        self.img_dir = os.path.join(root, split, "images")
        self.mask_dir = os.path.join(root, split, "masks")
        self.names = sorted(os.listdir(self.img_dir))
        self.size = size
        self.train = split == "train"

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        name = self.names[i]
        img = cv2.imread(os.path.join(self.img_dir, name))[:, :, ::-1]
        mask = cv2.imread(os.path.join(self.mask_dir, name), cv2.IMREAD_GRAYSCALE)
        img = cv2.resize(img, (self.size, self.size))
        mask = cv2.resize(mask, (self.size, self.size), interpolation=cv2.INTER_NEAREST)
        if self.train and np.random.rand() < 0.5:
            img, mask = img[:, ::-1], mask[:, ::-1]
        img = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float() / 255.0
        mask = torch.from_numpy((np.ascontiguousarray(mask) > 127).astype("float32"))[None]
        return img, mask
