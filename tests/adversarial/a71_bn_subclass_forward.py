import torch
import torch.nn as nn
import torch.nn.functional as F
class ResBN(nn.BatchNorm2d):
    def forward(self, x):
        return super().forward(x) + x
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = ResBN(4)
    def forward(self, x):
        return self.bn(self.conv(x))
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
