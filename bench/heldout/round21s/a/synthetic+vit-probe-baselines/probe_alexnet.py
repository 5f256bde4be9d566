# Baseline: AlexNet conv features frozen, retrain the classifier (EuroSAT, 10 classes)
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

device = "cuda" if torch.cuda.is_available() else "cpu"
tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
loader = DataLoader(datasets.ImageFolder("data/eurosat", tf), batch_size=64, shuffle=True)

alex = models.alexnet(pretrained=True)
for param in alex.features.parameters():
    param.requires_grad = False
alex.classifier[6] = nn.Linear(4096, 10)
alex = alex.to(device)

optimizer = torch.optim.SGD(alex.classifier.parameters(), lr=0.001, momentum=0.9)
criterion = nn.CrossEntropyLoss()

for epoch in range(20):
    alex.train()
    total_loss = 0.0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = alex(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    print("Epoch %d, loss %.4f" % (epoch + 1, total_loss / len(loader)))

torch.save(alex.state_dict(), "alexnet_eurosat.pth")
