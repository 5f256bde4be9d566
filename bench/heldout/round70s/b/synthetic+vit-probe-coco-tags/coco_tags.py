import os

import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import CocoDetection


class CocoTags(CocoDetection):
    """COCO images with an 80-dim multi-hot vector of the categories present."""

    def __init__(self, root, split, transform):
        ann = os.path.join(root, "annotations", f"instances_{split}2017.json")
        super().__init__(os.path.join(root, f"{split}2017"), ann, transform=transform)
        self.cat_index = {c: i for i, c in enumerate(sorted(self.coco.getCatIds()))}

    def __getitem__(self, idx):
        img, anns = super().__getitem__(idx)
        y = torch.zeros(80)
        for a in anns:
            y[self.cat_index[a["category_id"]]] = 1.0
        return img, y


def coco_multilabel_loaders(root, img_size=384, batch_size=64):
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = T.Compose([T.RandomResizedCrop(img_size, scale=(0.5, 1)), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    te = T.Compose([T.Resize((img_size, img_size)), T.ToTensor(), norm])
    return (DataLoader(CocoTags(root, "train", tr), batch_size, shuffle=True, num_workers=8),
            DataLoader(CocoTags(root, "val", te), batch_size, num_workers=8))
