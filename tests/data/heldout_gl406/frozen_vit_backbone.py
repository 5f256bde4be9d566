# expect: none
# A frozen ViT (LayerNorm only, no BatchNorm): train mode changes nothing in it.
import timm
import torch

encoder = timm.create_model("vit_base_patch16_224", pretrained=True, num_classes=0)
for param in encoder.parameters():
    param.requires_grad = False
head = torch.nn.Linear(768, 10)
model = torch.nn.Sequential(encoder, head)
optimizer = torch.optim.AdamW(head.parameters(), lr=3e-4)

for epoch in range(3):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
