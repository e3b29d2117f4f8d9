"""Templates and static files of the search page, installed as ``searchkit.web``."""
