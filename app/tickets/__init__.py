"""Tickets and claims: issues as tickets, assignees as claims, commands, the status comment."""
