"""Incidents: verified accounts of what happened, their sources, evidence and imports."""
