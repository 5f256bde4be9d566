# CUB-200 fine-tuning with discriminative learning rates (backbone 10x smaller lr)
import torch
import torch.nn as nn
from torchvision import datasets, models, transforms

ROOT = "CUB_200_2011/images_split"
EPOCHS = 40

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                         transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train_set = datasets.ImageFolder(ROOT + "/train", tf)
loader = torch.utils.data.DataLoader(train_set, batch_size=32, shuffle=True, num_workers=4)

model = models.resnet50(pretrained=True)
model.fc = nn.Linear(2048, 200)
model.to(device)

backbone_params = [p for n, p in model.named_parameters() if not n.startswith("fc.")]
optimizer = torch.optim.SGD([
    {"params": backbone_params, "lr": 1e-3},
    {"params": model.fc.parameters(), "lr": 1e-2},
], momentum=0.9, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)
criterion = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    model.train()
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()
    print(epoch, loss.item())
torch.save(model.state_dict(), "cub_resnet50_ft.pth")
