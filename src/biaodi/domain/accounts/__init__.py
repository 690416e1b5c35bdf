"""Parties: real-name identity (resident ID, mobile numbers) and the roles of users and staff."""
