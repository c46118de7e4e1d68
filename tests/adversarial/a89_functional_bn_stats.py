import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
    def forward(self, x):
        y = self.conv(x)
        return F.batch_norm(y, self.bn.running_mean, self.bn.running_var, training=False)
model = Net()
inputs = (torch.randn(2, 3, 8, 8),)
