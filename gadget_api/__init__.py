"""The Join API behind the gadget (Flask, OAuth via mwoauth).

Not built yet: only the bot exists so far. The bot never imports this package.
"""
