import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader, random_split
from torchvision.datasets import ImageFolder

from configs.default import config
from models.factory import get_model
from trainer import Trainer


def build_loaders(dcfg):
    tf = T.Compose([
        T.RandomResizedCrop(dcfg["img_size"], scale=(0.6, 1.0)),
        T.RandomHorizontalFlip(),
        T.ColorJitter(0.2, 0.2, 0.2),
        T.ToTensor(),
        T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    full = ImageFolder(dcfg["root"], transform=tf)
    n_val = int(len(full) * dcfg["val_split"])
    train_set, val_set = random_split(full, [len(full) - n_val, n_val],
                                      generator=torch.Generator().manual_seed(0))
    kw = dict(batch_size=dcfg["batch_size"], num_workers=dcfg["workers"], pin_memory=True)
    return DataLoader(train_set, shuffle=True, **kw), DataLoader(val_set, **kw)


if __name__ == "__main__":
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader, val_loader = build_loaders(config["data"])
    model = get_model(**config["model"])
    Trainer(model, config, device).fit(train_loader, val_loader)
