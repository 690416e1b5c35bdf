"""Fund companies the platform sells for (基金销售): the protocol and a sandbox of our own."""
