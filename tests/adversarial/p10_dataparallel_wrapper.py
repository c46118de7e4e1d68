import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.InstanceNorm2d(4), nn.ReLU())
    def forward(self, x):
        return self.body(x)
net = Net()
model = nn.DataParallel(net)
inputs = (torch.randn(2, 3, 8, 8),)
