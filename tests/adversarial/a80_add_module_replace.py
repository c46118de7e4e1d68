import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential()
        self.body.add_module("conv", nn.Conv2d(3, 4, 3))
        self.body.add_module("bn", nn.BatchNorm2d(4))
        self.body.add_module("bn", nn.Tanh())
    def forward(self, x):
        return self.body(x)
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
