import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 6)
        self.bn1d = nn.BatchNorm1d(6)
    def forward(self, x):
        x = self.bn(self.conv(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.bn1d(self.fc(x))
model = Net()
inputs = (torch.randn(4, 3, 8, 8),)
