"""A stand-in for a third-party dependency, served by the example's local index."""


def greet(name):
    return f"hello, {name}"
