# Grayscale -> colour, L1 + perceptual loss (VGG16-BN)
# the generator is small; the perceptual net is only used inside the loss
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from losses import BNPerceptualLoss
from nets import UNetColor

device = "cuda" if torch.cuda.is_available() else "cpu"
tf = transforms.Compose([transforms.Resize((128, 128)), transforms.ToTensor()])
loader = DataLoader(datasets.ImageFolder("data/landscapes", tf), batch_size=32, shuffle=True)

net = UNetColor().to(device)
perc = BNPerceptualLoss().to(device)
opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))

for epoch in range(60):
    net.train()
    for rgb, _ in loader:
        rgb = rgb.to(device)
        gray = rgb.mean(1, keepdim=True)
        out = net(gray)
        loss = F.l1_loss(out, rgb) + 0.1 * perc(out, rgb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"[{epoch}] loss={loss.item():.4f}")
torch.save(net.state_dict(), "colorizer.pth")
