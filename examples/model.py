"""A small CNN with the classic mistake: conv biases that a BatchNorm cancels.

Run ``convbnlint examples/`` to see the findings, ``convbnlint --diff examples/``
to see the fix, and ``convbnlint --fix examples/`` to apply it.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class ResidualBlock(nn.Module):
    """The shortcut conv's output is added to the residual: its bias is NOT flagged."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.conv2(out)
        return F.relu(out + x)


class Net(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=5, stride=2),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=3, stride=2, bias=False),  # already right
            nn.BatchNorm2d(64),
            nn.ReLU(),
            ConvBlock(64, 64),
            ResidualBlock(64),
            nn.Conv2d(64, 64, 1),
            nn.GroupNorm(8, 64),  # GroupNorm does not cancel a per-channel bias: fine
        )
        self.head = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.head(x.mean(dim=(2, 3)))


def upsampler(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
        nn.InstanceNorm2d(channels // 2),
        nn.ReLU(),
    )


if __name__ == "__main__":
    net = Net()
    print(net(torch.randn(2, 3, 64, 64)).shape)
