import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.paths = [lambda x: self.bn(self.conv(x)), lambda x: self.conv(x)]
    def forward(self, x):
        return [p(x) for p in self.paths]
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
