import json

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class CocoCaptions(Dataset):
    def __init__(self, root, ann_file, vocab, transform):
        with open(ann_file) as f:
            self.anns = json.load(f)["annotations"]
        self.root, self.vocab, self.transform = root, vocab, transform

    def __len__(self):
        return len(self.anns)

    def __getitem__(self, idx):
        ann = self.anns[idx]
        img = Image.open(f"{self.root}/{ann['image_id']:012d}.jpg").convert("RGB")
        tokens = ["<start>"] + ann["caption"].lower().split() + ["<end>"]
        ids = [self.vocab.get(t, self.vocab["<unk>"]) for t in tokens]
        return self.transform(img), torch.tensor(ids)


def collate(batch):
    batch.sort(key=lambda b: len(b[1]), reverse=True)
    images, caps = zip(*batch)
    lengths = [len(c) for c in caps]
    padded = torch.zeros(len(caps), max(lengths), dtype=torch.long)
    for i, c in enumerate(caps):
        padded[i, :len(c)] = c
    return torch.stack(images), padded, lengths


def get_loader(root, ann_file, batch_size, vocab=None):
    vocab = vocab or {"<pad>": 0, "<start>": 1, "<end>": 2, "<unk>": 3}
    tf = transforms.Compose([transforms.RandomCrop(224), transforms.ToTensor()])
    ds = CocoCaptions(root, ann_file, vocab, tf)
    return DataLoader(ds, batch_size=batch_size, shuffle=True, collate_fn=collate), vocab
