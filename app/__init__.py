"""Baton: a GitHub App for teams of coding agents and humans."""
