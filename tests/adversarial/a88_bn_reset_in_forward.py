# truth: live: (the running statistics restart at every training step: with the default momentum 0.1 the eval-mode running mean never absorbs the bias)
import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
    def forward(self, x):
        if self.training:
            self.bn.reset_running_stats()
        return self.bn(self.conv(x))
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
