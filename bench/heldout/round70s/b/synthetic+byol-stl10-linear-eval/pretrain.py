import torch
import torchvision
import torchvision.transforms as T

from nets import BYOL


class TwoCrops:
    def __init__(self, tf):
        self.tf = tf

    def __call__(self, x):
        return self.tf(x), self.tf(x)


def main(epochs=200, lr=0.3, bs=256):
    aug = T.Compose([
        T.RandomResizedCrop(96, scale=(0.2, 1.0)), T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8), T.RandomGrayscale(0.2),
        T.ToTensor(), T.Normalize([0.43, 0.42, 0.39], [0.27, 0.26, 0.27]),
    ])
    ds = torchvision.datasets.STL10("data", split="unlabeled", download=True, transform=TwoCrops(aug))
    loader = torch.utils.data.DataLoader(ds, bs, shuffle=True, num_workers=8, drop_last=True)
    model = BYOL("resnet18").cuda()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1.5e-6)
    for epoch in range(epochs):
        model.train()
        for (v1, v2), _ in loader:
            loss = model(v1.cuda(non_blocking=True), v2.cuda(non_blocking=True))
            opt.zero_grad()
            loss.backward()
            opt.step()
            model.update_target()
        print(f"epoch {epoch} loss {loss.item():.4f}")
        torch.save(model.encoder.state_dict(), "byol_resnet18_encoder.pth")


if __name__ == "__main__":
    main()
