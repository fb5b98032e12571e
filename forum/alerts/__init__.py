"""The alerts feature: models, services, policy, views, forms and jobs."""
