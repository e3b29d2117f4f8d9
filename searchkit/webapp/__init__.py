"""The web face: the Flask app, its HTTP server, the articles API and its keys, the search log."""
