"""Documents: e-contracts (借款协议, 债权转让协议, 担保函) and investor statements."""
