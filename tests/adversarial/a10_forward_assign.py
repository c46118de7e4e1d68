import torch
import torch.nn as nn
def first(self, x):
    return self[0](x)
class Block(nn.Sequential):
    forward = first
    def __init__(self):
        super().__init__(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
model = Block()
inputs = (torch.randn(2, 3, 8, 8),)
