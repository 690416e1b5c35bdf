"""Risk control rules without I/O: facts, rule packs, consistency checks, grades, blacklist
terms and plain-language reasons. Modelling (pandas, optbinning, LightGBM) lives in
biaodi.risk_modelling; use cases in biaodi.services.risk."""
