import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.bn = nn.BatchNorm1d(6)
    def forward(self, x):
        y = self.fc(x.view(-1, 6, 6))
        return self.bn(y)
model = Net()
inputs = (torch.randn(4, 36),)
