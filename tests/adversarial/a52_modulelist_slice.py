import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)])
        self.seq = nn.Sequential(*self.layers)
    def forward(self, x):
        y = x
        for layer in self.layers[:1]:
            y = layer(y)
        return self.seq(x), y
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
