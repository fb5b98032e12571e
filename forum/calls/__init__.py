"""The calls feature: models, services, policy, views, forms and jobs."""
