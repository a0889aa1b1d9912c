"""Agreements, the commitments in them, their evidence, and the progress updates the person harmed chose."""
