from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms


def make_loaders(cfg):
    s = cfg["img_size"]
    tf = transforms.Compose([
        transforms.Resize((s, s)),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    full = datasets.ImageFolder(cfg["root"], transform=tf)
    n_val = int(0.1 * len(full))
    train, val = random_split(full, [len(full) - n_val, n_val])
    return (DataLoader(train, batch_size=cfg["batch_size"], shuffle=True, num_workers=4),
            DataLoader(val, batch_size=cfg["batch_size"], num_workers=4))


def class_names(cfg):
    """Folder names in ImageFolder order, e.g. 'Tomato___Late_blight'."""
    return datasets.ImageFolder(cfg["root"]).classes
