"""Circles, under /circles/ (mounted in mend/urls.py)."""

circle_patterns = ([], "circles")
