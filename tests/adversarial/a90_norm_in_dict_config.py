import torch
import torch.nn as nn
import torch.nn.functional as F
NORMS = {"bn": nn.BatchNorm2d, "ln": lambda c: nn.GroupNorm(1, c)}
class Net(nn.Module):
    def __init__(self, norm="ln"):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = NORMS[norm](4)
    def forward(self, x):
        return self.bn(self.conv(x))
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
