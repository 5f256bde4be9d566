"""Counter-based accumulation that clips every micro-batch; bf16 autocast with no scaler."""
import torch

optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
micro = 0
for batch in loader:
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = model(batch["input_ids"], labels=batch["labels"]).loss / 16
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # expect: GL208
    micro += 1
    if micro == 16:
        optimizer.step()
        optimizer.zero_grad()
        micro = 0
