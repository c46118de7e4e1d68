from .layers import ConvBN
