import torch
import torch.nn as nn
from torch.nn.modules.module import register_module_forward_hook
def relu_conv(module, inp, out):
    if isinstance(module, nn.Conv2d):
        return out.relu()
register_module_forward_hook(relu_conv)
model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
inputs = (torch.randn(2, 3, 8, 8),)
