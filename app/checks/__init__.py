"""The PR checks: `Baton / contracts` and the `Baton / verification` gate."""
