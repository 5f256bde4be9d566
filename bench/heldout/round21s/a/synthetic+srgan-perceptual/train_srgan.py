# SRResNet pre-training with VGG content loss (x4 super-resolution on DIV2K crops)
# (2x content weight schedule taken from the paper appendix)
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from losses import TVLoss, VGGPerceptualLoss
from nets import Generator

device = "cuda" if torch.cuda.is_available() else "cpu"
hr_tf = transforms.Compose([transforms.RandomCrop(96), transforms.ToTensor()])
loader = DataLoader(datasets.ImageFolder("data/DIV2K", hr_tf), batch_size=16, shuffle=True, num_workers=4)

G = Generator().to(device)
content_loss = VGGPerceptualLoss().to(device)
tv = TVLoss()
opt = torch.optim.Adam(G.parameters(), lr=1e-4)

for epoch in range(100):
    G.train()
    for hr, _ in loader:
        hr = hr.to(device)
        lr = torch.nn.functional.interpolate(hr, scale_factor=0.25, mode="bicubic", align_corners=False)
        sr = G(lr)
        loss = content_loss(sr, hr) * 0.006 + torch.nn.functional.mse_loss(sr, hr) + 2e-8 * tv(sr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(epoch, loss.item())
    torch.save(G.state_dict(), "srresnet.pth")
