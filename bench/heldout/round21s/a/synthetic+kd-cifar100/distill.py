# Knowledge distillation: ResNet-34 teacher (fine-tuned on CIFAR-100) -> SmallCNN student
import torch
import torch.nn as nn
from torchvision.models import resnet34

from students import SmallCNN, cifar100, kd_loss

device = "cuda" if torch.cuda.is_available() else "cpu"

teacher = resnet34(num_classes=100)
teacher.load_state_dict(torch.load("checkpoints/resnet34_cifar100.pth", map_location="cpu"))
teacher.requires_grad_(False)
teacher = teacher.to(device)

student = SmallCNN().to(device)
optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 200)
loader = cifar100()

for epoch in range(200):
    student.train()
    running = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        with torch.no_grad():
            t_logits = teacher(x)
        s_logits = student(x)
        loss = kd_loss(s_logits, t_logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
    scheduler.step()
    print(f"epoch {epoch} kd loss {running / len(loader):.4f}")
torch.save(student.state_dict(), "student_kd.pth")
