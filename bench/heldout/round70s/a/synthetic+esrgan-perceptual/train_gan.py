"""ESRGAN fine-tuning stage on DIV2K (x4). Generator initialised from the PSNR-oriented checkpoint."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from arch import Discriminator, RRDBNet
from data import DIV2KPairs
from losses import RelativisticGANLoss, VGGPerceptualLoss

device = "cuda"
gen = RRDBNet(num_block=23).to(device)
gen.load_state_dict(torch.load("pretrained/rrdb_psnr_x4.pth"))
disc = Discriminator().to(device)
percep = VGGPerceptualLoss().to(device)
gan_loss = RelativisticGANLoss()
pix_loss = nn.L1Loss()

opt_g = torch.optim.Adam(gen.parameters(), lr=1e-4, betas=(0.9, 0.99))
opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.9, 0.99))
loader = DataLoader(DIV2KPairs("data/DIV2K", patch=128, scale=4), batch_size=16, shuffle=True, num_workers=8)

for it, (lr_img, hr_img) in enumerate(loader):
    lr_img, hr_img = lr_img.to(device), hr_img.to(device)
    gen.train()
    disc.train()
    # generator step
    for p in disc.parameters():
        p.requires_grad = False
    sr = gen(lr_img)
    g_loss = (0.01 * pix_loss(sr, hr_img) + percep(sr, hr_img)
              + 0.005 * gan_loss(disc(hr_img), disc(sr), for_generator=True))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    # discriminator step
    for p in disc.parameters():
        p.requires_grad = True
    d_loss = gan_loss(disc(hr_img), disc(sr.detach()), for_generator=False)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    if it % 100 == 0:
        print(f"iter {it}: G {g_loss.item():.4f} D {d_loss.item():.4f}")
    if it == 400000:
        break
torch.save(gen.state_dict(), "esrgan_x4.pth")
