"""Shared test helpers: free ports, a local SMTP mailbox, test apps and clients, served apps, and
factories that build members, threads, calls and alerts through the services.

Conftest modules hold fixtures only; tests import helpers from here (`tests.support.<topic>`).
"""
