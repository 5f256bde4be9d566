# UrbanSound8K classification with log-mel spectrograms
# 10 classes, fold 10 used for validation (like in the paper)
import glob
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio
from torch.utils.data import DataLoader, Dataset

SR = 22050
N_MELS = 64
EPOCHS = 40


class UrbanSoundDS(Dataset):
    def __init__(self, root, folds):
        self.items = []
        for f in folds:
            for wav in glob.glob(os.path.join(root, f"fold{f}", "*.wav")):
                label = int(os.path.basename(wav).split("-")[1])
                self.items.append((wav, label))
        self.mel = torchaudio.transforms.MelSpectrogram(SR, n_fft=1024, hop_length=512, n_mels=N_MELS)
        self.db = torchaudio.transforms.AmplitudeToDB()

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        wav, sr = torchaudio.load(path)
        wav = torchaudio.functional.resample(wav.mean(0, keepdim=True), sr, SR)
        wav = F.pad(wav, (0, max(0, SR * 4 - wav.shape[1])))[:, : SR * 4]
        return self.db(self.mel(wav)), label


class AudioCNN(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn1, self.bn2, self.bn3 = nn.BatchNorm2d(16), nn.BatchNorm2d(32), nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        x = torch.mean(x, dim=(2, 3))
        x = F.dropout(F.relu(self.fc1(x)), 0.5, self.training)
        x = self.fc2(x)
        return F.softmax(x, dim=1)


def run(root="UrbanSound8K/audio"):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tr = DataLoader(UrbanSoundDS(root, range(1, 10)), batch_size=64, shuffle=True, num_workers=4)
    va = DataLoader(UrbanSoundDS(root, [10]), batch_size=64)
    net = AudioCNN().to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-4, weight_decay=1e-2)

    for ep in range(EPOCHS):
        net.train()
        tot = 0.0
        for spec, y in tr:
            spec, y = spec.to(device), y.to(device)
            out = net(spec)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item()
        net.eval()
        hits, n = 0, 0
        with torch.no_grad():
            for spec, y in va:
                pred = net(spec.to(device)).argmax(1).cpu()
                hits += (pred == y).sum().item()
                n += len(y)
        print(f"epoch {ep}: loss {tot / len(tr):.3f}  val acc {hits / n:.3f}")
    torch.save(net.state_dict(), "audiocnn.pt")


if __name__ == "__main__":
    run()
