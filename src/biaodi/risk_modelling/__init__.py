"""Risk modelling: training and scoring the champion scorecard and the challenger, metrics,
PSI, the model store and the rule-pack files. pandas, scikit-learn, optbinning and LightGBM are
imported here (lazily where scoring does not need them), never in biaodi.domain."""
