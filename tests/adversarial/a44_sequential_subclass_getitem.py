import torch
import torch.nn as nn
class Seq(nn.Sequential):
    def __iter__(self):
        return iter(list(self._modules.values())[:1])
model = Seq(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
inputs = (torch.randn(2, 3, 8, 8),)
