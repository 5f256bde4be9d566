import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from torch.utils.data import DataLoader, random_split
from torchvision import transforms
from torchvision.datasets import EuroSAT

from module import LandCoverModule

MEAN = [0.3444, 0.3803, 0.4078]
STD = [0.2037, 0.1366, 0.1148]


def get_loaders(root="data", bs=128):
    tf = transforms.Compose([
        transforms.Resize(224),
        transforms.RandomHorizontalFlip(),
        transforms.RandomVerticalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ])
    full = EuroSAT(root, transform=tf, download=True)
    n_val = int(0.2 * len(full))
    train_ds, val_ds = random_split(full, [len(full) - n_val, n_val], generator=torch.Generator().manual_seed(42))
    return (DataLoader(train_ds, batch_size=bs, shuffle=True, num_workers=4),
            DataLoader(val_ds, batch_size=bs, num_workers=4))


if __name__ == "__main__":
    pl.seed_everything(42)
    train_dl, val_dl = get_loaders()
    model = LandCoverModule(num_classes=10, lr=1e-3, max_epochs=30)
    trainer = pl.Trainer(
        max_epochs=30,
        accelerator="auto",
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss", patience=5)],
        log_every_n_steps=20,
    )
    trainer.fit(model, train_dl, val_dl)
