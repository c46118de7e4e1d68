import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3), nn.Tanh())
    def forward(self, x):
        return self.body[::2](x)
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
