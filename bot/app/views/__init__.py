"""Buttons and forms: result buttons that survive restarts, and the forms that ask for a prompt."""
