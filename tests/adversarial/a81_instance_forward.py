import torch
import torch.nn as nn
import torch.nn.functional as F
import types
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        orig = self.bn.forward
        self.bn.forward = lambda x: orig(x) + x
    def forward(self, x):
        return self.bn(self.conv(x))
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
