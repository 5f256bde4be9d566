import os
import xml.etree.ElementTree as ET

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import functional as TF

CLASSES = ["__background__", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
           "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
           "pottedplant", "sheep", "sofa", "train", "tvmonitor"]


class VOCDetection(Dataset):
    def __init__(self, root, split):
        with open(os.path.join(root, "ImageSets", "Main", f"{split}.txt")) as f:
            self.ids = [line.strip() for line in f]
        self.root = root

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        img_id = self.ids[i]
        img = Image.open(os.path.join(self.root, "JPEGImages", img_id + ".jpg")).convert("RGB")
        tree = ET.parse(os.path.join(self.root, "Annotations", img_id + ".xml"))
        boxes, labels = [], []
        for obj in tree.findall("object"):
            bb = obj.find("bndbox")
            boxes.append([float(bb.find(t).text) for t in ("xmin", "ymin", "xmax", "ymax")])
            labels.append(CLASSES.index(obj.find("name").text))
        target = {"boxes": torch.tensor(boxes), "labels": torch.tensor(labels)}
        return TF.to_tensor(img), target


def collate_fn(batch):
    return tuple(zip(*batch))
