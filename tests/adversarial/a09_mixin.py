import torch
import torch.nn as nn
class FirstOnly:
    def forward(self, x):
        return self[0](x)
class Block(FirstOnly, nn.Sequential):
    def __init__(self):
        super().__init__(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
model = Block()
inputs = (torch.randn(2, 3, 8, 8),)
