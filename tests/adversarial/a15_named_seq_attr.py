import torch
import torch.nn as nn
from collections import OrderedDict
block = nn.Sequential(OrderedDict([("conv", nn.Conv2d(3, 8, 3)), ("bn", nn.BatchNorm2d(8))]))
block.bn = nn.Identity()
model = block
inputs = (torch.randn(2, 3, 8, 8),)
