# expect: none
# Distillation: the frozen teacher (a ResNet) is kept in eval mode; only the student is
# put in train mode.
import torch
import torchvision

teacher = torchvision.models.resnet152(weights="DEFAULT")
teacher.requires_grad_(False)
teacher.eval()
student = torchvision.models.resnet18(num_classes=1000)
optimizer = torch.optim.SGD(student.parameters(), lr=0.1)

for epoch in range(90):
    student.train()
    for x, _ in loader:
        optimizer.zero_grad()
        with torch.no_grad():
            target = teacher(x).softmax(-1)
        loss = torch.nn.functional.kl_div(student(x).log_softmax(-1), target, reduction="batchmean")
        loss.backward()
        optimizer.step()
