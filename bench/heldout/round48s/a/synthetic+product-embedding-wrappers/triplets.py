import os
import random

from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms


class TripletFolder(Dataset):
    """Yields (anchor, positive, negative) crops from a class-per-folder tree."""

    def __init__(self, root, size=224):
        self.classes = sorted(os.listdir(root))
        self.items = {c: [os.path.join(root, c, f) for f in os.listdir(os.path.join(root, c))]
                      for c in self.classes}
        self.index = [(c, p) for c in self.classes for p in self.items[c]]
        self.tf = transforms.Compose([transforms.RandomResizedCrop(size), transforms.ToTensor()])

    def __len__(self):
        return len(self.index)

    def _load(self, path):
        return self.tf(Image.open(path).convert("RGB"))

    def __getitem__(self, i):
        cls, path = self.index[i]
        pos = random.choice(self.items[cls])
        neg_cls = random.choice([c for c in self.classes if c != cls])
        neg = random.choice(self.items[neg_cls])
        return self._load(path), self._load(pos), self._load(neg)
