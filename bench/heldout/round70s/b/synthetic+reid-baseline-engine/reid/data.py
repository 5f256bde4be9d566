import glob
import os
import re

import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader, Dataset

_PAT = re.compile(r"([-\d]+)_c(\d)")


class Market1501(Dataset):
    def __init__(self, folder, transform, relabel=False):
        files = sorted(glob.glob(os.path.join(folder, "*.jpg")))
        items = [(f, int(_PAT.search(os.path.basename(f)).group(1))) for f in files]
        items = [(f, pid) for f, pid in items if pid != -1]
        if relabel:
            mapping = {pid: i for i, pid in enumerate(sorted({p for _, p in items}))}
            items = [(f, mapping[pid]) for f, pid in items]
        self.items, self.transform = items, transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, pid = self.items[i]
        return self.transform(Image.open(path).convert("RGB")), pid


def build_loaders(cfg):
    size = cfg["DATA.SIZE"]
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_tf = T.Compose([T.Resize(size), T.RandomHorizontalFlip(), T.Pad(10), T.RandomCrop(size),
                          T.ToTensor(), norm, T.RandomErasing(p=0.5)])
    test_tf = T.Compose([T.Resize(size), T.ToTensor(), norm])
    root = cfg["DATA.ROOT"]
    train = Market1501(os.path.join(root, "bounding_box_train"), train_tf, relabel=True)
    query = Market1501(os.path.join(root, "query"), test_tf)
    gallery = Market1501(os.path.join(root, "bounding_box_test"), test_tf)
    bs = cfg["SOLVER.IMS_PER_BATCH"]
    return (DataLoader(train, bs, shuffle=True, num_workers=8, drop_last=True),
            DataLoader(query, 256, num_workers=8), DataLoader(gallery, 256, num_workers=8))
