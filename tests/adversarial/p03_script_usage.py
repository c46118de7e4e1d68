import copy
import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
    def forward(self, x):
        return self.bn(self.conv(x))
model = Net()
ema = copy.deepcopy(model)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
print(model)
n_params = sum(p.numel() for p in model.parameters())
state = model.state_dict()
model.train()
inputs = (torch.randn(2, 3, 8, 8),)
