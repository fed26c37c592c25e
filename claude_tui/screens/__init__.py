"""Screens and the App's stylesheet."""
