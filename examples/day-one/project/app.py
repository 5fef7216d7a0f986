"""A tiny application: fetch a name from a service, greet it with a dependency."""

import json
import urllib.request

import dayone


def fetch_greeting(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return dayone.greet(json.load(response)["name"])
