"""The payment gateway: its wire protocol, the platform's HTTP client and the sandbox."""
