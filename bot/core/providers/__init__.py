"""The image APIs the bot can speak, one module per kind, behind `Provider`; `router.py` fails over between them."""
