# DCGAN on CelebA 64x64 -- based on the official tutorial, modified D head
import torch
import torch.nn as nn
import torch.optim as optim
import torchvision.utils as vutils
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from models import Discriminator, Generator, nz, weights_init

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
dataset = datasets.ImageFolder(
    root="data/celeba",
    transform=transforms.Compose([
        transforms.Resize(64),
        transforms.CenterCrop(64),
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    ]),
)
loader = DataLoader(dataset, batch_size=128, shuffle=True, num_workers=2)

netG = Generator().to(device)
netG.apply(weights_init)
netD = Discriminator().to(device)
netD.apply(weights_init)

criterion = nn.BCELoss()
fixed_noise = torch.randn(64, nz, 1, 1, device=device)
real_label, fake_label = 1.0, 0.0
optD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))

for epoch in range(5):
    for i, (real, _) in enumerate(loader):
        real = real.to(device)
        b = real.size(0)
        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        label = torch.full((b,), real_label, device=device)
        out = netD(real)
        errD_real = criterion(out, label)
        errD_real.backward()

        noise = torch.randn(b, nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        out = netD(fake.detach())
        errD_fake = criterion(out, label)
        errD_fake.backward()
        optD.step()

        # (2) update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        out = netD(fake)
        errG = criterion(out, label)
        errG.backward()
        optG.step()

        if i % 50 == 0:
            print(f"[{epoch}/5][{i}/{len(loader)}] Loss_D {(errD_real + errD_fake).item():.4f} Loss_G {errG.item():.4f}")

    with torch.no_grad():
        sample = netG(fixed_noise).cpu()
    vutils.save_image(sample, f"samples_epoch{epoch}.png", normalize=True)
