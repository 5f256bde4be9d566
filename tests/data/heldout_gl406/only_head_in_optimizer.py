# expect: GL406 10
# Nothing is frozen with requires_grad: only the classifier is handed to the optimiser,
# so the rest of the EfficientNet never changes, yet its BatchNorm statistics do.
import torch
from torchvision.models import efficientnet_b0

model = efficientnet_b0(weights="DEFAULT")
model.classifier[1] = torch.nn.Linear(1280, 3)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)

for epoch in range(20):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
