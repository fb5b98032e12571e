"""The threads feature: models, services, policy, views, forms and jobs."""
