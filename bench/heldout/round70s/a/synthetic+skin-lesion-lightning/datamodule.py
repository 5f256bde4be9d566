import pandas as pd
import pytorch_lightning as pl
from PIL import Image
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

LABELS = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]


class HamDataset(Dataset):
    def __init__(self, frame, img_dir, tf):
        self.frame = frame.reset_index(drop=True)
        self.img_dir = img_dir
        self.tf = tf

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, i):
        r = self.frame.iloc[i]
        img = Image.open(f"{self.img_dir}/{r.image_id}.jpg").convert("RGB")
        return self.tf(img), LABELS.index(r.dx)


class HamDataModule(pl.LightningDataModule):
    def __init__(self, csv_path, img_dir, batch_size=32):
        super().__init__()
        self.csv_path, self.img_dir, self.batch_size = csv_path, img_dir, batch_size
        norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        self.train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                                            transforms.RandomVerticalFlip(), transforms.ToTensor(), norm])
        self.val_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                                          transforms.ToTensor(), norm])

    def setup(self, stage=None):
        df = pd.read_csv(self.csv_path)
        tr, va = train_test_split(df, test_size=0.15, stratify=df.dx, random_state=0)
        self.train_ds = HamDataset(tr, self.img_dir, self.train_tf)
        self.val_ds = HamDataset(va, self.img_dir, self.val_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.batch_size, num_workers=4)
