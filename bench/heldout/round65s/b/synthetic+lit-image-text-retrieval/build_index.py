import torch
import torch.nn.functional as F

from encoders import ImageTower


@torch.inference_mode()
def embed_gallery(ckpt_path, loader, device="cuda"):
    tower = ImageTower("resnet50")
    state = torch.load(ckpt_path, map_location="cpu")["state_dict"]
    tower.load_state_dict({k[len("image_tower."):]: v for k, v in state.items()
                           if k.startswith("image_tower.")})
    tower = tower.to(device).eval()
    feats = [F.normalize(tower(x.to(device)), dim=-1).cpu() for x, _ in loader]
    return torch.cat(feats)


def search(query_emb, gallery, k=10):
    scores = query_emb @ gallery.t()
    return scores.topk(k, dim=1).indices


if __name__ == "__main__":
    import sys
    from data import gallery_loader
    g = embed_gallery(sys.argv[1], gallery_loader("data/coco", split="test"))
    torch.save(g, "gallery_r50.pt")
