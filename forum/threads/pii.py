"""The personal-data guard, as threads use it: the shared one in forum.security.pii."""

from forum.security.pii import Finding, scan, summary

__all__ = ["Finding", "scan", "summary"]
