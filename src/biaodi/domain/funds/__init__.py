"""The cash wallet (余额宝-style): a money-market fund bought through a fund-sales adapter."""
