import torch
import torch.nn as nn
def add(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(lambda mod, i, o: o * torch.arange(o.shape[-1], dtype=o.dtype))
