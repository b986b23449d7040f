from . import coffee_backend
