import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    def forward(self, x):
        outs = []
        for m in self.features:
            x = m(x)
            outs.append(x)
        return outs
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
