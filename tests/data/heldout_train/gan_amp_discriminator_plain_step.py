"""A DCGAN under AMP: the discriminator's update bypasses the scaler."""
import torch
from torch import nn

netG = Generator().cuda()
netD = Discriminator().cuda()
optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
scaler = torch.amp.GradScaler("cuda")
bce = nn.BCEWithLogitsLoss()

for epoch in range(25):
    for real, _ in dataloader:
        real = real.cuda()
        noise = torch.randn(real.size(0), 100, 1, 1, device="cuda")
        fake = netG(noise)

        optD.zero_grad()
        with torch.autocast("cuda"):
            out_real = netD(real)
            out_fake = netD(fake.detach())
            lossD = bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.zeros_like(out_fake))
        scaler.scale(lossD).backward()
        optD.step()  # expect: GL210

        optG.zero_grad()
        with torch.autocast("cuda"):
            out = netD(fake)
            lossG = bce(out, torch.ones_like(out))
        scaler.scale(lossG).backward()
        scaler.step(optG)
        scaler.update()
