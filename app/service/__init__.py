"""The webhook service: settings, intake, the delivery queue, the worker, GitHub, dispatch.

It imports no feature: `app.features` hands it the features' routers and sweeps.
"""
